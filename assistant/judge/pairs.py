"""The judge's training pairs, built from the written questions (evals/train/) over the indexed guidance.

Two tasks share one model. "answers": (question, unit) is 1 when the unit, a
sentence or a whole list as assistant/units.py cuts them, holds the question's
evidence, else 0; the units are those retrieval puts in front of the judge for
that question, so it learns to tell apart exactly what it will be shown, and
the passage that holds the evidence is always among them. Questions the
guidance does not answer give only 0s, including the passage a false premise
twists. "followup": (question, the question before it) is 1 when the question
cannot be understood alone. Units from the documents held out of training are
never used, not even as negatives.
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import asdict, dataclass
from pathlib import Path

from assistant.units import Unit, judged_text, units
from corpus.records import Passage
from corpus.settings import AnswerSettings, TrainingSettings
from corpus.text import normalise, tokenize

FOLLOWUP = "follow-up: "  # what marks the follow-up task in the judge's input


@dataclass(frozen=True)
class Pair:
    """One training example: the judge reads `a` and `b` together and should say `label`."""

    task: str  # "answers" or "followup"
    a: str
    b: str
    label: int
    qid: str
    kind: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


def held_out(folder: Path) -> set[str]:
    """The documents no training line may use (held-out.txt beside the data)."""
    lines = (Path(folder) / "held-out.txt").read_text(encoding="utf-8").splitlines()
    return {line.strip() for line in lines if line.strip() and not line.startswith("#")}


JUDGE_FOLDERS = ("premise", "paraphrase", "conversational")  # subfolders the judge also learns from: the premise
# pairs' questions; the paraphrases, written so that words the other files use only in questions to refuse also
# appear in ones to answer; questions in a chat's register (instructions to the assistant among them)


def _files(folder: Path, also: tuple[str, ...]) -> list[Path]:
    """The training files of `folder`, then those of its subfolders `also`, each group in name order."""
    return [*sorted(Path(folder).glob("*.jsonl")), *(p for sub in also for p in sorted((Path(folder) / sub).glob("*.jsonl")))]


def load_lines(folder: Path, also: tuple[str, ...] = JUDGE_FOLDERS) -> list[dict]:
    """Every line of the training files, in file and line order; `also`: subfolders read after them (by default
    the judge's, JUDGE_FOLDERS; the premise check passes its own)."""
    out = []
    for path in _files(folder, also):
        out += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return out


def data_hash(folder: Path, also: tuple[str, ...] = JUDGE_FOLDERS) -> str:
    """sha256 over the training files and the held-out list, as they are, then the files of the subfolders `also`."""
    digest = hashlib.sha256()
    top = _files(folder, ())
    for path in [*sorted([*top, Path(folder) / "held-out.txt"]), *_files(folder, also)[len(top):]]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def is_validation(qid: str, share: float) -> bool:
    """Whether a question is kept apart for validation: a stable share, decided by its id alone."""
    return int(hashlib.sha256(qid.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF < share


def matches(unit: Unit, spans: list[str]) -> bool:
    """Whether a unit holds the evidence: a span inside it, or it inside a span (a list: two of its items, or
    one when that item is the whole answer)."""
    if unit.is_list:
        items = [normalise(i) for i in unit.of_list.items]
        hits = sum(1 for item in items if any(s in item or (item in s and len(item.split()) >= 3) for s in spans))
        return hits >= min(2, len(spans))
    text = normalise(unit.text)
    return any(s in text or (text in s and len(text.split()) >= 4) for s in spans)


_FOUND: dict[tuple[int, str], list[Passage]] = {}  # (searcher, span) -> passages holding it: spans recur


def evidence_passages(spans: list[str], searcher, seen: set[str]) -> list[Passage]:
    """Passages holding the evidence that retrieval for the question missed."""
    found = []
    for span in spans:
        key = (id(searcher), span)
        if key not in _FOUND:
            _FOUND[key] = [p for p in searcher.search(span, 3) if span in normalise(p.text)][:1]
        for p in _FOUND[key]:
            if p.chunk_id not in seen:
                found.append(p)
                seen.add(p.chunk_id)
    return found


def answer_pairs(line: dict, searcher, held: set[str], rng: random.Random, training: TrainingSettings,
                 list_words: int = AnswerSettings.list_words) -> list[Pair]:
    """The "answers" pairs of one written question."""
    question = line.get("standalone") if line.get("needs_history") else line["question"]
    passages = searcher.search(question, training.passages)
    answerable = bool(line.get("answerable"))
    spans = [normalise(s) for s in (line.get("evidence") or [])] if answerable else []
    seen = {p.chunk_id for p in passages}
    passages = passages + evidence_passages(spans, searcher, seen)
    if not answerable and line.get("near_evidence"):  # the passage a false premise twists: a hard negative
        passages = passages + evidence_passages([normalise(s) for s in line["near_evidence"]], searcher, seen)
    passages = [p for p in passages if p.doc_id not in held]
    sentences, lists = units(passages, list_words)
    q_terms = set(tokenize(question))
    positives, negatives = [], []
    for unit in sentences + lists:
        (positives if spans and matches(unit, spans) else negatives).append(unit)
    if answerable and not positives:
        return []  # the evidence is not where a unit can quote it (a heading, a cut list): nothing to learn
    negatives.sort(key=lambda u: (-len(q_terms & u.terms), u.passage, u.start))  # the most alike first
    hard = negatives[: training.negatives - 2]
    rest = negatives[len(hard):]
    picked = hard + rng.sample(rest, min(2, len(rest)))
    kind = line.get("kind", "")
    qid = line["id"]
    return ([Pair("answers", question, judged_text(passages[u.passage], u), 1, qid, kind) for u in positives]
            + [Pair("answers", question, judged_text(passages[u.passage], u), 0, qid, kind) for u in picked])


def followup_pairs(lines: list[dict], rng: random.Random) -> list[Pair]:
    """The "followup" pairs: the written follow-ups, each dependent one's standalone rewrite (which needs
    nothing before it), and written questions asked after an unrelated question."""
    pairs = []
    for line in lines:
        if line.get("type") != "followup":
            continue
        previous = line["history"][-1]["question"]
        pairs.append(Pair("followup", FOLLOWUP + line["question"], previous, int(line["needs_history"]), line["id"],
                          "dependent" if line["needs_history"] else "standalone"))
        if line["needs_history"]:
            pairs.append(Pair("followup", FOLLOWUP + line["standalone"], previous, 0, line["id"], "rewritten"))
    questions = [l for l in lines if l.get("type", "question") == "question" and l.get("answerable")]
    for line in rng.sample(questions, min(len(questions), 2 * len(pairs))):
        other = rng.choice(questions)
        if other.get("doc") != line.get("doc"):
            pairs.append(Pair("followup", FOLLOWUP + line["question"], other["question"], 0, line["id"], "unrelated"))
    return pairs


def build(folder: Path, searcher, training: TrainingSettings = TrainingSettings(),
          log=lambda message: None) -> tuple[list[Pair], list[Pair]]:
    """(training pairs, validation pairs) from every line under `folder`, split by question id."""
    rng = random.Random(training.seed)
    held = held_out(folder)
    lines = load_lines(folder)
    train, valid = [], []
    for i, line in enumerate(lines, start=1):
        if line.get("type") == "followup" and not line.get("answerable"):
            continue  # its question is read with the one before it: the followup task covers it
        pairs = answer_pairs(line, searcher, held, rng, training)
        (valid if is_validation(line["id"], training.validation) else train).extend(pairs)
        if i % 250 == 0:
            log(f"  {i} of {len(lines)} questions: {len(train) + len(valid)} pairs")
    for pair in followup_pairs(lines, rng):
        (valid if is_validation(pair.qid, training.validation) else train).append(pair)
    return train, valid
