"""Reads a `sources.toml` manifest: who published each file, where, under what licence."""

from __future__ import annotations

import tomllib
from pathlib import Path

from corpus.records import Provenance, Source

MANIFEST_NAME = "sources.toml"
MANIFEST_PATH = Path(__file__).with_name(MANIFEST_NAME)


class ManifestError(ValueError):
    """A sources.toml that cannot be read."""


def load_manifest(path: Path = MANIFEST_PATH) -> dict[str, Source]:
    """Return the manifest's sources keyed by `path` (relative, POSIX).

    Accepts both this project's manifest and the mirror's (which has no `id`:
    the path stands in for it).
    """
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ManifestError(f"cannot read manifest {path}: {exc}") from exc
    sources: dict[str, Source] = {}
    for i, entry in enumerate(data.get("document", []), start=1):
        if not isinstance(entry, dict) or "path" not in entry or "title" not in entry:
            raise ManifestError(f"{path}: document #{i} needs a path and a title")
        values = {k: str(v) for k, v in entry.items()}
        sources[values["path"]] = Source(
            id=values.get("id", values["path"]), path=values["path"], provenance=Provenance.from_dict(values),
            published=values.get("published", ""), download=values.get("download", ""), sha256=values.get("sha256", ""),
        )
    return sources
