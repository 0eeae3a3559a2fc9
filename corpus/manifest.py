"""Reads a `sources.toml` manifest: who published each file, where, under what licence."""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass
from pathlib import Path

MANIFEST_NAME = "sources.toml"
MANIFEST_PATH = Path(__file__).with_name(MANIFEST_NAME)


class ManifestError(ValueError):
    """A sources.toml that cannot be read."""


@dataclass(frozen=True)
class Source:
    """One document of a corpus as its manifest describes it."""

    id: str
    path: str
    title: str
    publisher: str = ""
    collection: str = ""
    url: str = ""
    license: str = ""
    published: str = ""
    download: str = ""
    sha256: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


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
    fields = set(Source.__dataclass_fields__)
    for i, entry in enumerate(data.get("document", []), start=1):
        if "path" not in entry or "title" not in entry:
            raise ManifestError(f"{path}: document #{i} needs a path and a title")
        values = {k: str(v) for k, v in entry.items() if k in fields}
        values.setdefault("id", values["path"])
        sources[values["path"]] = Source(**values)
    return sources
