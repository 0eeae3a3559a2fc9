"""The assistant: question in, cited `Answer` out. `ask` wraps `ask_many`, the one code path, streamed or not."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import Protocol

from assistant.extractive import compose, paragraph_opening
from assistant.followup import standalone_question
from assistant.frame import Frame, frame as frame_for
from assistant.language import with_editions
from assistant.refusal import Verdict, nearest_topics, readable, refusal_text
from assistant.units import units
from assistant.verify import render, renumber, verify
from corpus.language import detect
from corpus.records import Answer, Passage, Query, Scope, Turn
from corpus.settings import AnswerSettings, CheckSettings, ConversationSettings
from index.catalog import Catalog

OnToken = Callable[[str], None]


class QuestionError(ValueError):
    """A question the assistant cannot take (empty, too long)."""


class Searcher(Protocol):
    """Finds passages for a question (index/search.py, or the textbook baseline in evals/)."""

    def search(self, query: str, k: int | None = None, scope: Scope = Scope()) -> list[Passage]: ...

    def catalog(self) -> Catalog: ...


class Answerer(Protocol):
    """Writes an answer from retrieved passages: the offline extractive answerer, or an LLM.

    `verbatim` answerers quote the passages' own sentences, so a sentence the
    citation check cannot support is left out; others' are kept and marked
    [unsupported], so the reader sees what was not backed. `on_token`
    receives the answer's text as it is written, where the answerer streams.
    """

    name: str
    verbatim: bool

    def answer(self, question: str, passages: list[Passage], on_token: OnToken | None = None) -> Answer: ...


def check_question(question: str, max_chars: int = AnswerSettings.max_question_chars) -> str:
    """Return the question stripped, or raise QuestionError with a one-line reason."""
    if not isinstance(question, str):
        raise QuestionError("the question must be text")
    question = question.strip()
    if not question:
        raise QuestionError("the question is empty: type a question about buying AI")
    if len(question) > max_chars:
        raise QuestionError(f"the question is too long ({len(question):,} characters; the limit is {max_chars:,}): shorten it")
    return question


class Assistant:
    """Retrieval, a refusal policy, an answerer and citation verification.

    Heavy parts come in through the constructor. Every answer's sentences are
    checked against the passages they cite (assistant/verify.py); unsupported
    sentences are dropped from a verbatim answer's text (kept in `sentences`,
    marked) or marked in others', and an answer left with none is a refusal.

    `frame` is the language of the assistant's own words (assistant/frame.py); `routes` maps other languages
    to the assistants that answer questions in them (a Welsh question is answered without the English judge:
    assistant/language.py).
    """

    def __init__(self, searcher: Searcher, answerer: Answerer, policy=None, support=None,
                 answers: AnswerSettings = AnswerSettings(), check: CheckSettings = CheckSettings(),
                 conversation: ConversationSettings = ConversationSettings(), followups=None,
                 frame: Frame | None = None, routes: dict | None = None):
        self.searcher = searcher
        self.answerer = answerer
        self.policy = policy
        self.support = support  # scores a sentence against a passage (assistant/verify.py)
        self.followups = followups  # question, previous question -> probability the question needs it (the judge)
        self.answers, self.check, self.conversation = answers, check, conversation
        self.frame = frame or frame_for()
        self.routes = routes or {}

    def catalog(self) -> Catalog:
        """The live catalog of what is searched (reloaded after an ingest)."""
        return self.searcher.catalog()

    def ask(self, question: str, history: tuple[Turn, ...] = (), scope: Scope = Scope(),
            on_token: OnToken | None = None) -> Answer:
        """One question. `on_token(text)` receives the answer as it is written (LLM answerers stream)."""
        return self.ask_many([Query(question, tuple(history), scope)], on_token)[0]

    def ask_many(self, queries: list[Query], on_token: OnToken | None = None) -> list[Answer]:
        """Answer each query in order; raises QuestionError for the first bad question before answering any."""
        checked = [check_question(q.question, self.answers.max_question_chars) for q in queries]
        return [self._one(query, question, on_token) for query, question in zip(queries, checked)]

    def route(self, question: str) -> "Assistant":
        """The assistant that answers `question`: the one for its language, or this one."""
        return self.routes.get(detect(question), self) if self.routes else self

    def _one(self, query: Query, question: str, on_token: OnToken | None) -> Answer:
        if (route := self.route(question)) is not self:
            return route._one(query, question, on_token)
        t0 = time.perf_counter()
        standalone = standalone_question(question, list(query.history), self.conversation, self.followups)
        passages = self.searcher.search(standalone, None, query.scope)
        t1 = time.perf_counter()
        verdict = self.policy.check(question, passages) if self.policy else Verdict(False)
        corrected = self._correction(question, passages, verdict) if verdict.kind == "premise" else None
        if verdict.refuse:
            elsewhere = bool(passages) and all(p.provenance.language not in ("", self.frame.language) for p in passages)
            answer = Answer(question=question, answer=refusal_text(verdict, self.frame, elsewhere), refused=True,
                            answerer="refusal", kind="refusal", confidence=verdict.confidence)
        elif corrected is not None:
            answer = corrected
        else:
            # "the closest it says" quotes only guidance the reader reads (with none, the topic floor refused already)
            shown = readable(passages, self.frame.language) if verdict.kind == "closest" else passages
            answer = self._verified(self.answerer.answer(standalone, shown, on_token=on_token), shown)
            if verdict.kind == "closest" and not answer.refused:
                answer = replace(answer, answer=f"{self.frame('not_directly')}\n\n{answer.answer}", kind="closest")
            elif not answer.refused and answer.citations and all(c.provenance.language not in ("", self.frame.language)
                                            for c in answer.citations):  # only the other language's guidance
                answer = replace(answer, answer=f"{self.frame('other_language')}\n\n{answer.answer}")
            answer = replace(answer, confidence=verdict.confidence,
                             citations=with_editions(answer.citations, self.catalog().documents))
        t2 = time.perf_counter()
        timings = {"retrieve": round((t1 - t0) * 1000, 2), "compose": round((t2 - t1) * 1000, 2),
                   "total": round((t2 - t0) * 1000, 2)}
        return replace(answer, question=question, standalone_question=standalone, retrieved=passages, timings_ms=timings,
                       language=self.frame.language)

    def _correction(self, question: str, passages: list[Passage], verdict: Verdict) -> Answer | None:
        """The answer to a question whose premise the guidance contradicts: says so, and quotes what it says instead
        (the unit the premise check found; for an item of a list, the whole list, since "twelve principles" is
        answered by the list of them, not by one; for a sentence inside a paragraph, the paragraph's first sentence
        with it), cited; None when that unit is not among the passages' units."""
        sentences, lists = units(passages, self.answers.list_words)
        found = [u for u in sentences + lists if (u.passage, u.start) == verdict.unit][:1]
        if not found:
            return None
        whole = [u for u in lists if found[0].of_list is not None and u.of_list is found[0].of_list]
        mine = sorted((u for u in sentences if u.passage == found[0].passage), key=lambda u: u.start)
        opening = paragraph_opening(found[0], passages[found[0].passage].text, mine)
        # an item is quoted with its whole list, a sentence with its paragraph's opening sentence
        quoted = compose(question, passages, whole or ([opening, *found] if opening else found), "premise", self.frame)
        return replace(quoted, answer=f"{verdict.reason}\n\n{quoted.answer}", kind="premise",
                       confidence=verdict.confidence, citations=with_editions(quoted.citations, self.catalog().documents))

    def _verified(self, answer: Answer, passages: list[Passage]) -> Answer:
        if answer.refused and not answer.answer:
            verdict = Verdict(True, self.frame("not_covered"), nearest_topics(passages, language=self.frame.language))
            return Answer(question=answer.question, answer=refusal_text(verdict, self.frame), refused=True,
                          answerer=answer.answerer, kind="refusal")
        if self.support is None or answer.refused:
            return answer
        by_number = {c.n: c for c in answer.citations}
        checked = verify([(s.text, s.citations) for s in answer.sentences], by_number, self.support,
                         self.check.support_threshold)
        sentences, citations = renumber(checked, by_number)
        if not any(s.supported for s in checked):
            verdict = Verdict(True, self.frame("not_directly_reason"), nearest_topics(passages, language=self.frame.language))
            return Answer(question=answer.question, answer=refusal_text(verdict, self.frame), refused=True,
                          sentences=sentences, answerer=answer.answerer, kind="refusal")
        if all(s.supported for s in checked) and self.answerer.verbatim:
            text = answer.answer  # every quote held up: numbering and grouping stay as composed
        else:
            text = render(sentences, mark_unsupported=not self.answerer.verbatim)
        return replace(answer, answer=text, sentences=sentences, citations=citations)
