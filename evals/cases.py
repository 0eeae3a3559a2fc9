"""The gold set: reading cases, and matching a passage against a case's evidence."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

from corpus.text import normalise

GOLD = Path(__file__).with_name("gold.jsonl")
DEV = Path(__file__).with_name("dev.jsonl")
HOLDOUT = Path(__file__).with_name("holdout.jsonl")  # written after tuning, without running the assistant
HOLDOUT2 = Path(__file__).with_name("holdout2.jsonl")  # the same, later, refusal-heavy
HOLDOUT3 = Path(__file__).with_name("holdout3.jsonl")
HOLDOUT4 = Path(__file__).with_name("holdout4.jsonl")
HOLDOUT5 = Path(__file__).with_name("holdout5.jsonl")  # written for the judge, before it was trained
HOLDOUT6 = Path(__file__).with_name("holdout6.jsonl")  # written from the guidance alone while the 6-layer judge trained
HOLDOUT7 = Path(__file__).with_name("holdout7.jsonl")  # written from the guidance alone before the embedder was tuned
HOLDOUT8 = Path(__file__).with_name("holdout8.jsonl")  # written from the guidance alone, 2026-12-02, before its first run
HOLDOUT9 = Path(__file__).with_name("holdout9.jsonl")  # the same, 2026-12-02, while a judge with chat/ trained
HOLDOUT10 = Path(__file__).with_name("holdout10.jsonl")  # the same, 2026-12-02, while new premise pairs were written
HOLDOUT11 = Path(__file__).with_name("holdout11.jsonl")  # the same, 2026-12-03, after the premise doubt band was chosen
WELSH = Path(__file__).with_name("welsh.jsonl")  # Welsh questions, their English twins, Welsh refusals
SETS = {"gold": GOLD, "dev": DEV, "holdout": HOLDOUT, "holdout2": HOLDOUT2, "holdout3": HOLDOUT3, "holdout4": HOLDOUT4,
        "holdout5": HOLDOUT5, "holdout6": HOLDOUT6, "holdout7": HOLDOUT7, "holdout8": HOLDOUT8, "holdout9": HOLDOUT9,
        "holdout10": HOLDOUT10, "holdout11": HOLDOUT11, "welsh": WELSH}  # every set by name: a new set is added here once
WHY = ("out_of_scope", "false_premise", "jurisdiction_legal", "prompt_injection", "vendor_specific", "presupposition",
       "absent_fact", "other_language", "task")


class CaseError(ValueError):
    """A gold-set line that does not follow the format."""


@dataclass
class Case:
    """One expected answer: a question, the evidence a correct citation must contain, and key points."""

    id: str
    question: str
    answerable: bool
    evidence: list[str] = field(default_factory=list)
    evidence_docs: list[str] = field(default_factory=list)
    key_points: list[str] = field(default_factory=list)
    reference_answer: str = ""
    why: str = ""
    history: list[dict] = field(default_factory=list)
    language: str = "en"  # the question's: "en" or "cy" (evals/welsh.jsonl)

    def to_dict(self) -> dict:
        data = asdict(self)
        if not data["history"]:
            data.pop("history")
        if self.language == "en":
            data.pop("language")
        if self.answerable:
            data.pop("why")
        return data


def load_cases(path: Path = GOLD) -> list[Case]:
    """Read a JSONL gold set; raise CaseError naming the line of any malformed case."""
    cases, seen = [], set()
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            case = Case(**{k: v for k, v in data.items() if k in Case.__dataclass_fields__})
        except (json.JSONDecodeError, TypeError) as exc:
            raise CaseError(f"{path}:{number}: {exc}") from None
        problems = []
        if case.id in seen:
            problems.append(f"duplicate id {case.id}")
        if not case.question.strip():
            problems.append("empty question")
        if case.answerable and not (1 <= len(case.evidence) <= 3 and len(case.evidence) == len(case.evidence_docs)):
            problems.append("an answerable case needs 1 to 3 evidence snippets, each with its document")
        if not case.answerable and not case.why.split(":")[0] in WHY:
            problems.append(f"a refusal needs a why starting with one of {', '.join(WHY)}")
        if problems:
            raise CaseError(f"{path}:{number} ({case.id}): {'; '.join(problems)}")
        seen.add(case.id)
        cases.append(case)
    return cases


_ITEM_MARK = re.compile(r"^[ \t]*\d{1,2}[.)][ \t]+|(?:^|(?<=\s))[-*•](?=\s)", re.M)  # "1. " opening a line; a lone -, * or •


def contains_evidence(passage_text: str, snippet: str) -> bool:
    """True if the passage holds the snippet, or most of it where a chunk boundary cut it.

    A snippet split across two passages counts for each passage that holds at
    least 60% of its words, contiguous, from its start or its end. A snippet is
    words, not markup: one that runs over list items matches whether or not the
    document marks them as items (a PDF's bullets, plain lines in Markdown).
    """
    passage, snip = normalise(_ITEM_MARK.sub(" ", passage_text)), normalise(_ITEM_MARK.sub(" ", snippet))
    if snip in passage:
        return True
    words = snip.split()
    if len(words) < 8:
        return False
    need = max(5, int(len(words) * 0.6 + 0.999))
    return " ".join(words[:need]) in passage or " ".join(words[-need:]) in passage
