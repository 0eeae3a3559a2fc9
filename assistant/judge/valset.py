"""Writes the training data's validation split as an evaluation set in the gold format (evals/cases.py).

Usage: python -m assistant.judge.valset OUT.jsonl [--folders vendor,premise] [--data DIR]

A judge trained on evals/train/ never sees the questions `is_validation` keeps apart by id, so they can
be asked of the whole pipeline with `procure-ai eval --set OUT.jsonl`, beside gold and dev, when a
new judge is weighed against the shipped one: a kind of question gold and dev hold a handful of (vendor
picks, say) gets a few dozen more that neither judge trained on, and the held-out sets stay unread
until the choice is made. The split is the judge's, so it holds for any judge trained on that data;
the shipped judge never saw a folder it does not read (`JUDGE_FOLDERS`), so for it every line of such a
folder is unseen. Only standalone questions are written: follow-ups belong to their conversations. The
cases carry no key points (training lines have none), so the eval's key-point figure reads 0 on them.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from assistant.judge.pairs import is_validation, load_lines
from corpus.settings import Settings, TrainingSettings
from evals.cases import Case

TRAIN = Path(__file__).resolve().parents[2] / "evals" / "train"
# the training data's kinds of question to refuse, as the evaluation sets name them (evals/cases.py WHY)
WHY = {"false_premise": "false_premise", "absent_fact": "absent_fact", "presupposition": "presupposition",
       "vendor_pick": "vendor_specific", "instruction": "prompt_injection", "out_of_scope": "out_of_scope",
       "other_language": "other_language", "jurisdiction": "jurisdiction_legal", "task": "task"}


def case(line: dict) -> Case | None:
    """The evaluation case for one training line, or None for a line that is not a standalone question."""
    if line.get("type", "question") != "question" or line.get("history"):
        return None
    if line.get("answerable"):
        evidence = line["evidence"][:3]
        return Case(id=line["id"], question=line["question"], answerable=True, evidence=evidence,
                    evidence_docs=[line["doc"]] * len(evidence))
    return Case(id=line["id"], question=line["question"], answerable=False,
                why=f"{WHY[line['kind']]}: {line.get('why', '')}".strip())


def validation_cases(data: Path, folders: list[str] | None, share: float = TrainingSettings.validation) -> list[Case]:
    """The standalone questions the judge keeps for validation, in file order: those of the named subfolders'
    files, or of `data`'s top-level files when none is named."""
    lines = [line for sub in folders for line in load_lines(data / sub, ())] if folders else load_lines(data, ())
    return [found for line in lines if is_validation(line["id"], share) and (found := case(line))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="where to write the set (JSONL)")
    parser.add_argument("--folders", default="", help="comma-separated subfolders, e.g. vendor (default: the top-level files)")
    parser.add_argument("--data", type=Path, default=TRAIN, help="the training data (default: evals/train/)")
    args = parser.parse_args(argv)
    folders = [f for f in args.folders.split(",") if f]
    missing = [str(p) for p in (args.data, *(args.data / f for f in folders)) if not p.is_dir()]
    if missing:
        print(f"error: no such training folder: {', '.join(missing)}", file=sys.stderr)
        return 2
    cases = validation_cases(args.data, folders, Settings.load().training.validation)  # the share training used
    args.out.write_text("".join(json.dumps(c.to_dict(), ensure_ascii=False) + "\n" for c in cases), encoding="utf-8")
    answerable = sum(c.answerable for c in cases)
    print(f"{len(cases)} validation questions ({answerable} answerable, {len(cases) - answerable} to refuse) -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
