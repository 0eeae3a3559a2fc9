"""The assistant: question in, cited `Answer` out. `ask` wraps `ask_many`, the one code path."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Protocol

from assistant.records import Answer
from assistant.settings import MAX_QUESTION_CHARS
from index.search import Passage, Scope, Searcher


class QuestionError(ValueError):
    """A question the assistant cannot take (empty, too long)."""


@dataclass(frozen=True)
class Turn:
    """One earlier exchange of a conversation."""

    question: str
    answer: str = ""


@dataclass(frozen=True)
class Query:
    """A question with its conversation so far and the part of the corpus to search."""

    question: str
    history: tuple[Turn, ...] = ()
    scope: Scope = field(default_factory=Scope)


class Answerer(Protocol):
    """Writes the answer from retrieved passages (extractive offline, or an LLM)."""

    name: str

    def answer(self, question: str, passages: list[Passage]) -> Answer: ...


def check_question(question: str) -> str:
    """Return the question stripped, or raise QuestionError with a one-line reason."""
    if not isinstance(question, str):
        raise QuestionError("the question must be text")
    question = question.strip()
    if not question:
        raise QuestionError("the question is empty: type a question about buying AI")
    if len(question) > MAX_QUESTION_CHARS:
        raise QuestionError(
            f"the question is too long ({len(question):,} characters; the limit is {MAX_QUESTION_CHARS:,}): shorten it"
        )
    return question


class PassageList:
    """The simplest answerer: the best passages, each with its [n]."""

    name = "passages"

    def answer(self, question: str, passages: list[Passage]) -> Answer:
        from assistant.records import Citation

        citations = [Citation.from_passage(i, p) for i, p in enumerate(passages, start=1)]
        lines = [f"[{c.n}] {c.title} — {c.section or c.title}: {c.text}" for c in citations]
        return Answer(question=question, answer="\n\n".join(lines), refused=not citations, citations=citations,
                      retrieved=passages, answerer=self.name)


class Assistant:
    """Retrieval plus an answerer. Heavy parts come in through the constructor."""

    def __init__(self, searcher: Searcher, answerer: Answerer, top_k: int = 5):
        self.searcher = searcher
        self.answerer = answerer
        self.top_k = top_k

    def ask(self, question: str, history: tuple[Turn, ...] = (), scope: Scope = Scope()) -> Answer:
        return self.ask_many([Query(question, tuple(history), scope)])[0]

    def ask_many(self, queries: list[Query]) -> list[Answer]:
        """Answer each query in order; raises QuestionError for the first bad question."""
        checked = [check_question(q.question) for q in queries]
        answers = []
        for query, question in zip(queries, checked):
            t0 = time.perf_counter()
            passages = self.searcher.search(question, self.top_k, query.scope)
            t1 = time.perf_counter()
            answer = self.answerer.answer(question, passages)
            t2 = time.perf_counter()
            answer.question = question
            answer.retrieved = passages
            answer.timings_ms = {
                "retrieve": round((t1 - t0) * 1000, 2),
                "compose": round((t2 - t1) * 1000, 2),
                "total": round((t2 - t0) * 1000, 2),
            }
            answers.append(answer)
        return answers
