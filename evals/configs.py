"""The configurations `procure-ai eval` compares side by side, built over the same index and model."""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path

from assistant.factory import build_assistant, build_chunker, build_index
from assistant.service import Assistant
from assistant.settings import Settings
from evals.baseline import TextbookRetriever
from ingest.pipeline import ingest

SEARCH_MODES = ("hybrid", "dense", "keyword")


def assistants(settings: Settings, names: list[str], corpus: Path | None = None):
    """Yield (name, Assistant) for each configuration name.

    Names: hybrid, dense, keyword (retrieval modes over the index in
    settings.data_dir); textbook (LlamaIndex's VectorStoreIndex, 1024-token
    chunks, dense only, built from `corpus`); chunks-N (hybrid over a fresh
    index of `corpus` with N-token passages); llm (hybrid with the configured
    OpenAI-compatible answerer).
    """
    index = build_index(settings)
    offline = replace(settings, llm_base_url=None)  # every configuration but "llm" answers offline
    base = build_assistant(offline, index=index)
    for name in names:
        if name in SEARCH_MODES:
            yield name, build_assistant(replace(offline, search_mode=name), index=index)
        elif name == "llm":
            if not settings.llm_base_url:
                raise ValueError("the llm configuration needs --llm-base-url (or PROCURE_AI_LLM_BASE_URL)")
            yield name, build_assistant(settings, index=index)
        elif name == "textbook":
            if corpus is None:
                raise ValueError("the textbook configuration needs --corpus FOLDER to build its own index from")
            work = Path(tempfile.mkdtemp(prefix="procure-ai-textbook-"))
            textbook = TextbookRetriever(corpus, work, index.embedder)
            answerer = build_assistant(offline, index=index).answerer  # its own sentence cache, like the others
            yield name, Assistant(textbook, answerer, policy=base.policy, judge=base.judge, top_k=settings.top_k)
        elif name.startswith("chunks-"):
            if corpus is None:
                raise ValueError(f"the {name} configuration needs --corpus FOLDER to re-index")
            sized = replace(offline, chunk_tokens=int(name.split("-", 1)[1]),
                            data_dir=Path(tempfile.mkdtemp(prefix=f"procure-ai-{name}-")))
            sized_index = build_index(sized, embedder=index.embedder)
            ingest([corpus], sized_index, build_chunker(sized, sized_index))
            yield name, build_assistant(sized, index=sized_index)
        else:
            raise ValueError(f"unknown configuration {name!r}: use hybrid, dense, keyword, textbook, chunks-N or llm")
