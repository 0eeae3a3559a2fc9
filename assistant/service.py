"""The assistant: question in, cited `Answer` out. `ask` wraps `ask_many`, the one code path."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Protocol

from assistant.records import Answer
from assistant.settings import MAX_QUESTION_CHARS
from assistant.followup import standalone_question
from assistant.refusal import Verdict, nearest_topics, refusal_text
from assistant.verify import render, renumber, verify
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


class Assistant:
    """Retrieval, a refusal policy, an answerer and citation verification.

    Heavy parts come in through the constructor. Every answer's sentences are
    checked against the passages they cite (assistant/verify.py); unsupported
    sentences are dropped from the text (kept in `sentences`, marked), and an
    answer left with none is a refusal.
    """

    def __init__(self, searcher: Searcher, answerer: Answerer, policy=None, judge=None, top_k: int = 5):
        self.searcher = searcher
        self.answerer = answerer
        self.policy = policy
        self.judge = judge
        self.top_k = top_k

    def ask(self, question: str, history: tuple[Turn, ...] = (), scope: Scope = Scope(), on_token=None) -> Answer:
        """One question. `on_token(text)` receives the answer as it streams (LLM answerers)."""
        if on_token is None:
            return self.ask_many([Query(question, tuple(history), scope)])[0]
        return self._one(Query(question, tuple(history), scope), check_question(question), on_token)

    def ask_many(self, queries: list[Query]) -> list[Answer]:
        """Answer each query in order; raises QuestionError for the first bad question."""
        checked = [check_question(q.question) for q in queries]
        return [self._one(query, question) for query, question in zip(queries, checked)]

    def _one(self, query: Query, question: str, on_token=None) -> Answer:
        t0 = time.perf_counter()
        standalone = standalone_question(question, list(query.history))
        passages = self.searcher.search(standalone, self.top_k, query.scope)
        t1 = time.perf_counter()
        verdict = self.policy.check(question, passages) if self.policy else None
        if verdict is not None and verdict.refuse:
            answer = Answer(question=question, answer=refusal_text(verdict), refused=True, answerer="refusal")
        else:
            if on_token is not None and getattr(self.answerer, "name", "") == "llm":
                answer = self.answerer.answer(standalone, passages, on_token=on_token)
            else:
                answer = self.answerer.answer(standalone, passages)
            answer = self._verified(answer, passages)
        t2 = time.perf_counter()
        answer.question = question
        answer.standalone_question = standalone
        answer.retrieved = passages
        answer.timings_ms = {
            "retrieve": round((t1 - t0) * 1000, 2),
            "compose": round((t2 - t1) * 1000, 2),
            "total": round((t2 - t0) * 1000, 2),
        }
        return answer

    def _verified(self, answer: Answer, passages: list[Passage]) -> Answer:
        if answer.refused and not answer.answer:
            verdict = Verdict(True, "The guidance does not cover this.", nearest_topics(passages))
            return Answer(question=answer.question, answer=refusal_text(verdict), refused=True, answerer=answer.answerer)
        if self.judge is None or answer.refused:
            return answer
        by_number = {c.n: c for c in answer.citations}
        pairs = [(s.text, s.citations) for s in answer.sentences]
        checked = verify(pairs, by_number, self.judge)
        supported = [s for s in checked if s.supported]
        sentences, citations = renumber(checked, by_number)
        if not supported:
            verdict = Verdict(True, "The guidance does not answer this directly.", nearest_topics(passages))
            return Answer(question=answer.question, answer=refusal_text(verdict), refused=True,
                          sentences=sentences, answerer=answer.answerer)
        if all(s.supported for s in checked) and answer.answerer == "extractive":
            text = answer.answer  # every quote held up: numbering and grouping stay as composed
        else:  # an LLM answer: unsupported sentences stay, marked, so the reader sees what was not backed
            text = render(sentences, mark_unsupported=answer.answerer != "extractive")
        answer.answer, answer.sentences, answer.citations = text, sentences, citations
        return answer

