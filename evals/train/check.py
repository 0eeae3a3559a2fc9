"""Checks the judge's training data (evals/train/*.jsonl) against the corpus, line by line.

Usage: python -m evals.train.check [FILE ...] [--corpus DIR] [--eval]

Every evidence span must occur verbatim in its document (compared as the
evals compare: markup stripped, quotes straightened, whitespace collapsed,
case folded), ids must be unique across the files, no question may be a copy
or near-copy of an evaluation question, and no line may draw on a document
that is held out of training (`HELD_OUT`). With `--eval`, the files are
evaluation sets in the gold format instead (evals/cases.py) and only their
evidence is checked. Prints one line per problem and a count by kind; exits
1 when there is a problem.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections import Counter
from pathlib import Path

from corpus.text import normalise
from evals.cases import load_cases

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
EVAL_SETS = sorted((ROOT / "evals").glob("*.jsonl"))
# checked after the top-level files: the premise pairs (premise2/: written for the premise check, read by no
# shipped model yet), the paraphrases, and questions in a chat's register (conversational/: instructions to the
# assistant, absent facts, follow-up asks; chat/: answerable questions put as a situation then an ask, read by no
# model yet); vendor/: vendor and product picks and answerable questions naming a vendor, read by no model yet
SUBFOLDERS = ("premise", "premise2", "paraphrase", "conversational", "chat", "vendor")
# Documents no training line may use, so the judge is measured on documents it never saw.
HELD_OUT = tuple(line.strip() for line in (HERE / "held-out.txt").read_text(encoding="utf-8").splitlines()
                 if line.strip() and not line.startswith("#"))
ANSWERABLE_KINDS = ("fact", "list", "definition", "how_to", "why", "who", "example", "comparison", "yes_no",
                    "wrapped_instruction", "true_premise")
UNANSWERABLE_KINDS = ("out_of_scope", "absent_fact", "jurisdiction", "vendor_pick", "false_premise", "presupposition",
                      "instruction", "other_language", "task")
PERSONAS = ("officer", "trainer", "project_lead", "unspecified")  # unspecified: the seed set
_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset("a an the of to in on for and or is are was were be do does did we our us i you your it its this that "
                  "what which who how why when where can could should would will with about by from as at".split())


def default_corpus() -> Path:
    shared = Path(os.environ.get("PROCURE_AI_SHARED", ROOT.parent / "shared"))
    return shared / "corpus"


def document_texts(corpus: Path) -> dict[str, str]:
    """Each document of the mirror's manifest, normalised: the raw file and what the reader makes of it."""
    from corpus.manifest import load_manifest
    from ingest.readers import read_document

    texts = {}
    for path in load_manifest(corpus / "sources.toml"):
        raw = "" if path.endswith(".pdf") else (corpus / path).read_text(encoding="utf-8")
        try:
            read = read_document(corpus / path, path).text
        except Exception as exc:  # noqa: BLE001 (a PDF without its reader installed: only its raw text counts)
            read = "" if raw else f"(unreadable: {exc})"
        texts[path] = normalise(raw + "\n" + read)
    return texts


def content_words(text: str) -> frozenset[str]:
    return frozenset(w for w in _WORD.findall(text.lower()) if w not in _STOP)


def too_close(question: str, eval_questions: list[frozenset[str]], limit: float = 0.6) -> bool:
    """True if the question shares most of its content words with an evaluation question."""
    words = content_words(question)
    for other in eval_questions:
        if words and other and len(words & other) / len(words | other) >= limit:
            return True
    return False


def _spans(item: dict, key: str, problems: list[str], where: str, texts: dict[str, str], doc: str) -> None:
    spans = item.get(key)
    if not isinstance(spans, list) or not spans or not all(isinstance(s, str) for s in spans):
        problems.append(f"{where}: '{key}' must be a non-empty list of strings")
        return
    for span in spans:
        words = len(span.split())
        if not 3 <= words <= 90:
            problems.append(f"{where}: a span of {words} words (3 to 90): {span[:60]!r}")
        if normalise(span) not in texts.get(doc, ""):
            problems.append(f"{where}: not verbatim in {doc}: {span[:80]!r}")


def check_line(item: dict, where: str, texts: dict[str, str], eval_questions) -> tuple[list[str], str]:
    """Problems with one training line, and its kind for the counts."""
    problems: list[str] = []
    question = item.get("question")
    if not isinstance(question, str) or len(question.strip()) < 3:
        return [f"{where}: no question"], "?"
    if too_close(question, eval_questions):
        problems.append(f"{where}: too close to an evaluation question; write your own from the passage")
    kind = item.get("kind", "")
    line_type = item.get("type", "question")
    if line_type == "followup":
        history = item.get("history")
        if not (isinstance(history, list) and history and all(isinstance(h, dict) and h.get("question") for h in history)):
            problems.append(f"{where}: a follow-up needs history: [{{\"question\": ...}}]")
        if not isinstance(item.get("needs_history"), bool):
            problems.append(f"{where}: a follow-up needs needs_history true or false")
        if item.get("needs_history") and not str(item.get("standalone", "")).strip():
            problems.append(f"{where}: a follow-up that needs its history needs 'standalone', the question rewritten")
        kind = "followup_" + ("dependent" if item.get("needs_history") else "standalone")
    if item.get("answerable") is True:
        doc = item.get("doc", "")
        if doc in HELD_OUT:
            problems.append(f"{where}: {doc} is held out of training")
        elif doc not in texts:
            problems.append(f"{where}: unknown document {doc!r}")
        else:
            _spans(item, "evidence", problems, where, texts, doc)
        if line_type != "followup" and kind not in ANSWERABLE_KINDS:
            problems.append(f"{where}: kind {kind!r} is not one of {', '.join(ANSWERABLE_KINDS)}")
        if line_type != "followup" and item.get("persona") not in PERSONAS:
            problems.append(f"{where}: persona must be one of {', '.join(PERSONAS)}")
        if kind == "true_premise" and not str(item.get("premise", "")).strip():
            problems.append(f"{where}: a true_premise needs 'premise': what the question takes the guidance to say")
    elif item.get("answerable") is False:
        if line_type != "followup" and kind not in UNANSWERABLE_KINDS:
            problems.append(f"{where}: kind {kind!r} is not one of {', '.join(UNANSWERABLE_KINDS)}")
        if not str(item.get("why", "")).strip():
            problems.append(f"{where}: an unanswerable question needs 'why': what the corpus does and does not say")
        near = item.get("near_doc", "")
        if near:
            if near in HELD_OUT:
                problems.append(f"{where}: {near} is held out of training")
            elif near not in texts:
                problems.append(f"{where}: unknown near_doc {near!r}")
            elif item.get("near_evidence"):
                _spans(item, "near_evidence", problems, where, texts, near)
        if kind in ("false_premise", "presupposition") and not (near and item.get("near_evidence")) \
                and item.get("writer") != "training-seed":  # the seed set (shared/training-seed) names no passage
            problems.append(f"{where}: a {kind} needs near_doc and near_evidence: the passage it twists")
    else:
        problems.append(f"{where}: answerable must be true or false")
    return problems, ("answerable:" if item.get("answerable") else "unanswerable:") + kind


def check_training(files: list[Path], texts: dict[str, str]) -> tuple[list[str], Counter]:
    eval_questions = [content_words(c.question) for path in EVAL_SETS for c in load_cases(path)]
    problems: list[str] = []
    counts: Counter = Counter()
    seen: dict[str, str] = {}
    for file in files:
        for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            where = f"{file.name}:{number}"
            try:
                item = json.loads(line)
            except json.JSONDecodeError as exc:
                problems.append(f"{where}: not JSON ({exc.msg})")
                continue
            if not isinstance(item, dict):
                problems.append(f"{where}: not a JSON object")
                continue
            ident = str(item.get("id", ""))
            if not ident:
                problems.append(f"{where}: no id")
            elif ident in seen:
                problems.append(f"{where}: id {ident} already used at {seen[ident]}")
            seen[ident] = where
            found, kind = check_line(item, where, texts, eval_questions)
            problems += found
            counts[kind] += 1
    return problems, counts


def check_eval(files: list[Path], texts: dict[str, str]) -> tuple[list[str], Counter]:
    problems: list[str] = []
    counts: Counter = Counter()
    for file in files:
        for case in load_cases(file):
            counts["answerable" if case.answerable else "refuse:" + case.why.split(":")[0]] += 1
            for snippet, doc in zip(case.evidence, case.evidence_docs):
                if doc not in texts:
                    problems.append(f"{file.name} {case.id}: unknown document {doc}")
                elif normalise(snippet) not in texts[doc]:
                    problems.append(f"{file.name} {case.id}: evidence not verbatim in {doc}: {snippet[:80]!r}")
    return problems, counts


def training_files(folder: Path = HERE) -> list[Path]:
    """Every training file: the top-level ones, then each of `SUBFOLDERS`', in name order (the files the checker
    checks; which of them a model reads is the model's choice, `assistant/judge/pairs.py`)."""
    return [*sorted(folder.glob("*.jsonl")), *(p for sub in SUBFOLDERS for p in sorted((folder / sub).glob("*.jsonl")))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path, help="default: every training file (training_files)")
    parser.add_argument("--corpus", type=Path, default=None, help="the guidance mirror (default ../shared/corpus)")
    parser.add_argument("--eval", action="store_true", help="the files are evaluation sets in the gold format")
    args = parser.parse_args(argv)
    files = args.files or training_files()
    texts = document_texts(args.corpus or default_corpus())
    problems, counts = (check_eval if args.eval else check_training)(files, texts)
    for problem in problems:
        print(problem)
    print(f"{sum(counts.values())} lines in {len(files)} file(s): "
          + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    print(f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
