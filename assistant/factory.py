"""Builds the assistant's parts from Settings: the one place that wires real components together."""

from __future__ import annotations

from assistant.service import Assistant, PassageList
from assistant.settings import Settings, offline_environment
from ingest.chunker import Chunker
from index.embedder import Embedder
from index.index import Index
from index.search import Searcher


def build_index(settings: Settings, embedder: Embedder | None = None) -> Index:
    offline_environment()
    embedder = embedder or Embedder(settings.embed_model)
    return Index(settings.data_dir, embedder, chroma_url=settings.chroma_url)


def build_chunker(settings: Settings, index: Index) -> Chunker:
    return Chunker(max_tokens=settings.chunk_tokens, count_tokens=index.embedder.count_tokens)


def build_assistant(settings: Settings, index: Index | None = None) -> Assistant:
    index = index or build_index(settings)
    searcher = Searcher(index, mode=settings.search_mode)
    return Assistant(searcher, PassageList(), top_k=settings.top_k)
