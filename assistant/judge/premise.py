"""The premise check: does the guidance contradict what the question takes it to say?

"Since the guide says AI systems are set-and-forget, what is the minimum
monitoring?" retrieves passages that answer the question it asks (monitoring)
and the judge finds them answering; what is wrong is the premise. A second
small cross-encoder (the judge's architecture and tokenizer, one output,
assistant/judge/train.py) reads the question with a unit of the guidance and
says how likely that unit contradicts something the question attributes to
the guidance, or shows that a thing it presumes is not there (a sixth stage
of four). It learns from contrastive pairs written over one span, a premise
that holds and one twisted (evals/train/premise/), with the judge's false
premises and presuppositions, and with ordinary questions' evidence and
neighbours as text that contradicts nothing; each written premise is also
read as a plain statement against its span, the comparison without the
question's frame. It keeps all six of MiniLM's layers, as the judge does:
telling "sometimes" from "always" in the same words takes depth, and it reads
only a handful of units. At question time it reads the
few units the judge read that share most with the question
(assistant/judge/rerank.py); at or over its cut-off the answer says the
guidance does not say that and quotes what it does say (assistant/service.py).
The cut-off is picked on validation questions asked of the real pipeline, so
that it flags at most a set share of answerable ones.
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np

from assistant.judge.model import MODEL_DIR, PairModel
from assistant.judge import pairs
from assistant.judge.pairs import Pair, evidence_passages, held_out, is_validation, matches
from assistant.units import judged_text, units
from corpus.settings import AnswerSettings, JudgeSettings, TrainingSettings
from corpus.text import normalise, tokenize

TASK = ("contradicts",)
FALSE = ("false_premise", "presupposition")
FOLDERS = ("premise",)  # beside the judge's training files: the premise pairs (evals/train/premise/; premise2/,
# written for this check, is read by no shipped model yet: evals/results/judge.md, last section)


class Premise(PairModel):
    """The shipped premise check (model/premise.onnx, the judge's tokenizer, model/premise.json its card)."""

    filename = "premise.onnx"
    card_name = "premise.json"

    def __init__(self, folder: Path = MODEL_DIR, settings: JudgeSettings = JudgeSettings(), cache_size: int = 2048):
        super().__init__(folder, settings, cache_size)

    def contradicts(self, question: str, texts: list[str]) -> np.ndarray:
        """How likely each text contradicts what the question takes the guidance to say (0 to 1)."""
        return self._scores(0, [(question, t) for t in texts])

    @property
    def cut(self) -> float:
        """The cut-off: the settings', or the one training picked."""
        return self.settings.premise_cut if self.settings.premise_cut is not None else float(self.card["cut"])

    @property
    def doubt(self) -> float | None:
        """The doubt cut-off (JudgeSettings.premise_doubt): the settings', or the one training picked; None when the
        card has none (picked before it existed), so nothing is hedged for it."""
        if self.settings.premise_doubt is not None:
            return self.settings.premise_doubt
        return float(self.card["doubt"]) if "doubt" in self.card else None


def load_lines(folder: Path) -> list[dict]:
    """The top-level training lines and the premise pairs, questions only (no follow-ups), in file order."""
    return [line for line in pairs.load_lines(folder, FOLDERS) if line.get("type", "question") == "question"]


def data_hash(folder: Path) -> str:
    """sha256 over every file the premise check learns from."""
    return pairs.data_hash(folder, FOLDERS)


def line_pairs(line: dict, searcher, held: set[str], rng: random.Random, training: TrainingSettings,
               list_words: int = AnswerSettings.list_words) -> list[Pair]:
    """The "contradicts" pairs of one question: 1 for the units holding the span a false premise twists, 0 for
    two others; 0 for an answerable question's evidence and the units most like it."""
    question = line["question"]
    false = not line.get("answerable") and line.get("kind") in FALSE
    spans = [normalise(s) for s in (line.get("near_evidence") if false else line.get("evidence")) or []]
    if not spans:
        return []
    passages = searcher.search(question, training.passages)
    seen = {p.chunk_id for p in passages}
    passages = [p for p in passages + evidence_passages(spans, searcher, seen) if p.doc_id not in held]
    sentences, lists = units(passages, list_words)
    matched = [u for u in sentences + lists if matches(u, spans)]
    if not matched:
        return []
    others = [u for u in sentences + lists if u not in matched]
    q_terms = set(tokenize(question))
    if false:
        picked = rng.sample(others, min(2, len(others)))  # the most alike may twist the same thing: not labelled
    else:
        matched = matched[:2]
        others.sort(key=lambda u: (-len(q_terms & u.terms), u.passage, u.start))
        picked = others[: 3 if line.get("kind") == "true_premise" else 1]
    label = int(false)
    qid, kind = line["id"], line.get("kind", "")
    claim = str(line.get("premise") or "").strip()  # the premise stated plainly: the comparison without the frame
    return ([Pair(TASK[0], question, judged_text(passages[u.passage], u), label, qid, kind) for u in matched]
            + [Pair(TASK[0], question, judged_text(passages[u.passage], u), 0, qid, kind) for u in picked]
            + [Pair(TASK[0], claim, judged_text(passages[u.passage], u), label, qid, kind) for u in matched[:1] if claim])


def chosen_lines(folder: Path, training: TrainingSettings) -> list[dict]:
    """The questions it learns from: every false premise, presupposition and true premise, and a seeded sample
    of `premise_answerable` other answerable questions."""
    rng = random.Random(training.seed)
    lines = load_lines(folder)
    premises = [l for l in lines if l.get("kind") in FALSE + ("true_premise",)]
    others = [l for l in lines if l.get("answerable") and l.get("kind") != "true_premise"]
    return premises + rng.sample(others, min(training.premise_answerable, len(others)))


def split_id(line: dict) -> str:
    """What decides whether a question is kept for validation: its premise pair, when it has one, so that both
    questions over one span fall on the same side (one trained on would tell the other's answer)."""
    return str(line.get("pair") or line["id"])


def build(folder: Path, searcher, training: TrainingSettings = TrainingSettings(),
          log=lambda message: None) -> tuple[list[Pair], list[Pair]]:
    """(training pairs, validation pairs), split by premise pair (`split_id`), else by question id."""
    rng = random.Random(training.seed)
    held = held_out(folder)
    lines = chosen_lines(folder, training)
    train, valid = [], []
    for i, line in enumerate(lines, start=1):
        (valid if is_validation(split_id(line), training.validation) else train).extend(
            line_pairs(line, searcher, held, rng, training))
        if i % 500 == 0:
            log(f"  {i} of {len(lines)} questions: {len(train) + len(valid)} pairs")
    return train, valid


def pick_cut(answerable: list[float], false: list[float], share: float, doubts: float | None = None) -> dict:
    """The lowest cut-off that flags at most `share` of the answerable validation questions (their highest
    premise score each), with what it flags of the false premises; with `doubts`, also the lowest `doubt` cut-off
    that reaches at most that share of them (no floor: the check's scores for what holds sit near 0)."""
    ranked = sorted(answerable, reverse=True)

    def lowest(part: float, none: float) -> float:
        allowed = int(part * len(ranked))
        return ranked[allowed] + 1e-4 if len(ranked) > allowed else none

    def share_at(scores: list[float], cut: float) -> float | None:
        return round(float(np.mean([s >= cut for s in scores])), 4) if scores else None

    cut = min(max(lowest(share, 0.5), 0.5), 0.99)
    picked = {"cut": round(cut, 4), "answerable_flagged": share_at(answerable, cut), "false_flagged": share_at(false, cut),
              "questions": {"answerable": len(answerable), "false": len(false)}}
    if doubts is not None:
        doubt = min(lowest(doubts, cut), cut)
        picked.update(doubt=round(doubt, 4), answerable_doubted=share_at(answerable, doubt),
                      false_doubted=share_at(false, doubt))
    return picked
