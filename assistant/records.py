"""The records an answer is made of: `Citation`, `Sentence` and `Answer`, each with `to_dict()`.

`Answer.to_dict()` is the JSON contract of `procure-ai ask --json` and `POST /api/ask`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from index.search import Passage


@dataclass
class Citation:
    """[n] in an answer: the passage it points to."""

    n: int
    doc_id: str
    title: str
    section: str
    url: str
    page: int | None
    text: str
    chunk_id: str = ""
    publisher: str = ""
    license: str = ""
    collection: str = ""
    quote: str = ""  # the sentence(s) of the passage the answer relies on

    @classmethod
    def from_passage(cls, n: int, passage: Passage, quote: str = "") -> "Citation":
        return cls(
            n=n, doc_id=passage.doc_id, title=passage.title, section=passage.section, url=passage.url,
            page=passage.page, text=passage.text, chunk_id=passage.chunk_id, publisher=passage.publisher,
            license=passage.license, collection=passage.collection, quote=quote,
        )

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Sentence:
    """One sentence of an answer, the citations behind it, and how well they support it."""

    text: str
    citations: list[int]
    supported: bool
    support: float

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Answer:
    question: str
    answer: str
    refused: bool
    citations: list[Citation] = field(default_factory=list)
    retrieved: list[Passage] = field(default_factory=list)
    sentences: list[Sentence] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)
    standalone_question: str = ""
    answerer: str = "extractive"

    def to_dict(self) -> dict:
        return {
            "question": self.question,
            "answer": self.answer,
            "refused": self.refused,
            "citations": [c.to_dict() for c in self.citations],
            "retrieved": [
                {k: v for k, v in p.to_dict().items() if k not in ("signals",)} for p in self.retrieved
            ],
            "sentences": [s.to_dict() for s in self.sentences],
            "timings_ms": self.timings_ms,
            "standalone_question": self.standalone_question or self.question,
            "answerer": self.answerer,
        }
