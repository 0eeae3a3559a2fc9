"""A trainer's question deck: read from a file, each answer prepared and checked before going live.

A deck is a text file with one question per line (blank lines and lines
starting with `#` ignored; a leading Markdown list marker such as `- `, `* `
or `1. ` is dropped, so a Markdown list works too), or a `.jsonl` file with
one `{"question", "collection"?, "doc"?}` object per line.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from assistant.service import Assistant, QuestionError
from corpus.records import Answer, Scope

_LIST_MARKER = re.compile(r"^\s*(?:[-*+]|\d{1,3}[.)])\s+")


class DeckError(ValueError):
    """A deck file that cannot be read; the message names the file and line."""


@dataclass(frozen=True)
class DeckQuestion:
    """One question of a deck, and the part of the corpus it is asked of."""

    question: str
    scope: Scope = field(default_factory=Scope)


@dataclass
class Slide:
    """A deck question with its prepared answer and what the check found wrong (nothing: ready)."""

    number: int
    question: str
    answer: Answer | None
    problems: list[str] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict:
        return {"number": self.number, "question": self.question, "ready": self.ready, "problems": self.problems,
                "answer": self.answer.to_dict() if self.answer else None}


def load_deck(path: Path) -> list[DeckQuestion]:
    """The questions of a deck file, in order. Raises DeckError for a missing, empty or malformed file."""
    path = Path(path).expanduser()
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise DeckError(f"cannot read the deck {path}: {exc.strerror or type(exc).__name__}") from None
    questions = []
    for number, line in enumerate(lines, start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if path.suffix.lower() == ".jsonl":
            try:
                item = json.loads(line)
                question = item["question"]
                if not isinstance(question, str):
                    raise TypeError
            except (json.JSONDecodeError, KeyError, TypeError):
                raise DeckError(f"{path} line {number}: not a JSON object with a 'question'") from None
            questions.append(DeckQuestion(question.strip(), Scope.of(item.get("collection"), item.get("doc"))))
        else:
            questions.append(DeckQuestion(_LIST_MARKER.sub("", line, count=1).strip()))
    if not questions:
        raise DeckError(f"the deck {path} has no questions (one per line; lines starting with # are comments)")
    return questions


def problems_of(answer: Answer) -> list[str]:
    """What a trainer should know before showing this answer live (empty: ready)."""
    if answer.refused:
        return ["refused (the guidance does not answer it as asked)"]
    found = []
    if answer.kind == "closest":
        found.append("not a direct answer (the guidance's closest passages are quoted)")
    if answer.kind == "premise":
        found.append("the guidance contradicts the question's premise (what it says instead is quoted)")
    if not answer.citations:
        found.append("no citations")
    unsupported = sum(not s.supported for s in answer.sentences)
    if unsupported:
        action = "marked [unsupported]" if "[unsupported]" in answer.answer else "left out"
        found.append(f"{unsupported} sentence(s) not supported by the passage they cite ({action})")
    return found


def prepare(assistant: Assistant, questions: list[DeckQuestion]) -> list[Slide]:
    """Answer and check every deck question now, so that presenting needs no model call."""
    slides = []
    for number, item in enumerate(questions, start=1):
        try:
            answer = assistant.ask(item.question, scope=item.scope)
        except QuestionError as exc:
            slides.append(Slide(number, item.question, None, [f"cannot be asked: {exc}"]))
            continue
        slides.append(Slide(number, item.question, answer, problems_of(answer)))
    return slides


def report(slides: list[Slide]) -> str:
    """The deck check as text, one line per question."""
    flagged = sum(not s.ready for s in slides)
    lines = [f"Deck check: {len(slides)} questions, {len(slides) - flagged} ready, {flagged} flagged"]
    for s in slides:
        question = " ".join(s.question.split())
        question = question if len(question) <= 70 else question[:69] + "…"
        if s.ready:
            lines.append(f"  ready    {s.number}. {question} ({len(s.answer.citations)} source{'s' if len(s.answer.citations) != 1 else ''})")
        else:
            lines.append(f"  FLAGGED  {s.number}. {question}: {'; '.join(s.problems)}")
    return "\n".join(lines)
