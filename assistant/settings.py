"""Settings: every flag and environment variable the assistant reads, in one place."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from pathlib import Path
from urllib.parse import urlparse

MAX_QUESTION_CHARS = 2000


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "procure-ai"


@dataclass(frozen=True)
class Settings:
    """Where the index lives and how to search and answer. See README "Configuration"."""

    data_dir: Path = _default_data_dir()
    chroma_url: str | None = None
    embed_model: str | None = None
    chunk_tokens: int = 220
    top_k: int = 5
    search_mode: str = "hybrid"
    llm_base_url: str | None = None
    llm_model: str | None = None
    llm_api_key: str | None = None

    # env var -> field
    ENV = {
        "PROCURE_AI_DATA_DIR": "data_dir",
        "PROCURE_AI_CHROMA_URL": "chroma_url",
        "PROCURE_AI_EMBED_MODEL": "embed_model",
        "PROCURE_AI_CHUNK_TOKENS": "chunk_tokens",
        "PROCURE_AI_TOP_K": "top_k",
        "PROCURE_AI_SEARCH_MODE": "search_mode",
        "PROCURE_AI_LLM_BASE_URL": "llm_base_url",
        "PROCURE_AI_LLM_MODEL": "llm_model",
        "PROCURE_AI_LLM_API_KEY": "llm_api_key",
    }

    @classmethod
    def load(cls, environ: dict | None = None, **overrides) -> "Settings":
        """Defaults, then environment variables, then non-None `overrides` (command-line flags)."""
        environ = os.environ if environ is None else environ
        types = {f.name: f.type for f in fields(cls)}
        values: dict = {}
        for var, name in cls.ENV.items():
            if environ.get(var):
                values[name] = environ[var]
        values.update({k: v for k, v in overrides.items() if v is not None})
        for name, value in list(values.items()):
            if "int" in str(types[name]) and not isinstance(value, int):
                try:
                    values[name] = int(value)
                except ValueError:
                    raise ValueError(f"{name} must be a whole number, not {value!r}") from None
            if name == "data_dir":
                values[name] = Path(value).expanduser()
        settings = replace(cls(), **values)
        if settings.search_mode not in ("hybrid", "dense", "keyword"):
            raise ValueError(f"search mode must be hybrid, dense or keyword, not {settings.search_mode!r}")
        if settings.chroma_url:
            parsed = urlparse(settings.chroma_url)
            if parsed.scheme not in ("http", "https") or not parsed.hostname:
                raise ValueError(f"bad Chroma URL {settings.chroma_url!r}: use http://host:port")
        if not 1 <= settings.top_k <= 50:
            raise ValueError("top_k must be between 1 and 50")
        if not 32 <= settings.chunk_tokens <= 512:
            raise ValueError("chunk_tokens must be between 32 and 512")
        return settings


def offline_environment() -> None:
    """Make sure no library reaches out to the network or phones home."""
    for var, value in {
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "GRADIO_ANALYTICS_ENABLED": "False",
        "ANONYMIZED_TELEMETRY": "False",
        "TOKENIZERS_PARALLELISM": "false",
        "TRANSFORMERS_VERBOSITY": "error",
        "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    }.items():
        os.environ.setdefault(var, value)
