"""Builds the assistant's parts from Settings: the one place that wires real components together."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from assistant.extractive import ExtractiveAnswerer
from assistant.frame import frame
from assistant.language import LanguageFirst
from assistant.refusal import RefusalPolicy
from assistant.service import Assistant
from assistant.verify import OfflineSupport
from corpus.language import ENGLISH, WELSH
from corpus.records import IngestReport
from corpus.settings import Settings, offline_environment
from ingest.chunker import Chunker
from ingest.plan import Progress, no_progress
from index.embedder import Embedder
from index.index import Index
from index.search import Searcher
from index.sentences import SentenceVectors
from index.update import update


def build_index(settings: Settings, embedder: Embedder | None = None) -> Index:
    offline_environment()
    embedder = embedder or Embedder(settings.embed_model, batch_size=settings.ingest.embed_batch,
                                    onnx_dir=settings.data_dir / "models")
    return Index(settings.data_dir, embedder, chroma_url=settings.chroma_url, settings=settings.ingest)


def build_chunker(settings: Settings, index: Index) -> Chunker:
    return Chunker(max_tokens=settings.ingest.chunk_tokens, count_tokens=index.embedder.count_tokens)


def ingest(settings: Settings, paths: list[Path], index: Index | None = None,
           progress: Progress = no_progress, collection: str | None = None) -> IngestReport:
    """Ingest `paths` into the index `settings` name (or `index`), into `collection` if given."""
    index = index or build_index(settings)
    return update(index, list(paths), build_chunker(settings, index), progress, collection)


def _from_keyword(index: Index, method: str, before):
    """A word -> value function read from the live keyword index (`before` until there is one)."""

    def call(term: str):
        keyword = index.keyword()
        return getattr(keyword, method)(term) if keyword is not None else before

    return call


def build_judge(settings: Settings):
    """The trained judge the repository ships (assistant/judge/model/), or None when `judge.enabled` is off."""
    if not settings.judge.enabled:
        return None
    from assistant.judge.model import Judge, JudgeUnavailable

    judge = Judge(settings=settings.judge)
    if judge.answerability is None:
        raise JudgeUnavailable(f"the judge in {judge.folder} has no answerability model: run `procure-ai train`")
    return judge


def build_premise(settings: Settings):
    """The premise check the repository ships (assistant/judge/model/premise.onnx), or None when it or the judge
    is off."""
    if not (settings.judge.enabled and settings.judge.premise):
        return None
    from assistant.judge.premise import Premise

    return Premise(settings=settings.judge)


def build_answerer(settings: Settings, index: Index, sentences: SentenceVectors | None = None, judge=None,
                   language: str = ENGLISH):
    if settings.llm.base_url:
        from assistant.llm import LLMAnswerer

        return LLMAnswerer(settings.llm)
    return ExtractiveAnswerer(embedder=index.embedder, idf=_from_keyword(index, "idf", 1.0), sentences=sentences,
                              settings=settings.answers, judge=judge, judge_settings=settings.judge, frame=frame(language))


def build_assistant(settings: Settings, index: Index | None = None, answerer=None, searcher=None,
                    judge="default", premise="default") -> Assistant:
    """The assistant over the index in `settings.data_dir` (or `index`); `answerer`, `searcher`, `judge` and
    `premise` replace the configured ones (the evals' configurations; judge=None: without the trained judge)."""
    index = index or build_index(settings)
    judge = build_judge(settings) if judge == "default" else judge
    premise = (build_premise(settings) if premise == "default" else premise) if judge is not None else None
    sentences = SentenceVectors(index.embedder, index.sentences)  # stored at ingest; one cache for all users
    support = OfflineSupport(embedder=index.embedder, idf=_from_keyword(index, "idf", 1.0), sentences=sentences,
                             settings=settings.check)
    given = answerer
    answerer = answerer or build_answerer(settings, index, sentences, judge)
    plain = searcher or Searcher(index, settings.retrieval)
    welsh = settings.languages.welsh and searcher is None
    searcher = plain  # English questions search everything: the judge has never quoted Welsh text for one
    if judge is not None:
        from assistant.judge.rerank import JudgedSearcher

        cheap = answerer.cheap_scores if isinstance(answerer, ExtractiveAnswerer) else None
        searcher = JudgedSearcher(searcher, judge, settings.judge, settings.answers, cheap, premise)
    return Assistant(
        searcher,
        answerer,
        policy=RefusalPolicy(settings.refusals, settings.judge if judge is not None else None,
                             known=_from_keyword(index, "knows", True),
                             answerability=judge.answerability if judge is not None else None,
                             premise_cut=premise.cut if premise is not None else None,
                             premise_doubt=premise.doubt if premise is not None else None,
                             embed=index.embedder.embed_query),
        support=support,
        answers=settings.answers,
        check=settings.check,
        conversation=settings.conversation,
        followups=judge.needs_history if judge is not None else None,
        routes={WELSH: _welsh(settings, index, given, plain, support, sentences)} if welsh else None,
    )


def _welsh(settings: Settings, index: Index, answerer, searcher, support, sentences) -> Assistant:
    """The assistant for Welsh questions: Welsh documents first, no judge (it reads English only), a Welsh frame
    (assistant/language.py)."""
    return Assistant(
        LanguageFirst(searcher, WELSH, settings.languages.welsh_coverage),
        answerer or build_answerer(settings, index, sentences, None, WELSH),
        policy=RefusalPolicy(settings.refusals, None, known=_from_keyword(index, "knows", True), frame=frame(WELSH)),
        support=support, answers=settings.answers, check=settings.check, conversation=settings.conversation,
        frame=frame(WELSH),
    )


def offline(settings: Settings) -> Settings:
    """The same settings answering offline (no LLM endpoint)."""
    return replace(settings, llm=replace(settings.llm, base_url=None))
