"""Builds the assistant's parts from Settings: the one place that wires real components together."""

from __future__ import annotations

from assistant.extractive import ExtractiveAnswerer
from assistant.refusal import RefusalPolicy
from assistant.service import Assistant
from assistant.settings import Settings, offline_environment
from assistant.verify import OfflineJudge
from ingest.chunker import Chunker
from index.embedder import Embedder
from index.index import Index
from index.search import Searcher
from index.sentences import SentenceVectors


def build_index(settings: Settings, embedder: Embedder | None = None) -> Index:
    offline_environment()
    embedder = embedder or Embedder(settings.embed_model, onnx_dir=settings.data_dir / "models")
    return Index(settings.data_dir, embedder, chroma_url=settings.chroma_url)


def build_chunker(settings: Settings, index: Index) -> Chunker:
    return Chunker(max_tokens=settings.chunk_tokens, count_tokens=index.embedder.count_tokens)


def _from_keyword(index: Index, method: str, before):
    """A word -> value function read from the live keyword index (`before` until there is one)."""

    def call(term: str):
        keyword = index.keyword()
        return getattr(keyword, method)(term) if keyword is not None else before

    return call


def idf_of(index: Index):
    """Word weights from the live keyword index (1.0 for every word before there is one)."""
    return _from_keyword(index, "idf", 1.0)


def known_to(index: Index):
    """Whether a stemmed word occurs anywhere in the indexed guidance (every word counts before there is an index)."""
    return _from_keyword(index, "knows", True)


def build_answerer(settings: Settings, index: Index, sentences: SentenceVectors | None = None):
    if settings.llm_base_url:
        from assistant.llm import LLMAnswerer

        return LLMAnswerer.from_settings(settings)
    return ExtractiveAnswerer(embedder=index.embedder, idf=idf_of(index), sentences=sentences)


def build_assistant(settings: Settings, index: Index | None = None, answerer=None) -> Assistant:
    index = index or build_index(settings)
    sentences = SentenceVectors(index.embedder, index.sentences)  # stored at ingest; one cache for both users
    judge = OfflineJudge(embedder=index.embedder, idf=idf_of(index), sentences=sentences)
    return Assistant(
        Searcher(index, mode=settings.search_mode),
        answerer or build_answerer(settings, index, sentences),
        policy=RefusalPolicy(judge, known=known_to(index)),
        judge=judge,
        top_k=settings.top_k,
    )
