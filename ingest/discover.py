"""Finds the files to ingest under the paths a user gives, with their manifest entries and ids."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from corpus.manifest import MANIFEST_NAME, ManifestError, load_manifest
from corpus.records import Source
from ingest.readers import SUPPORTED


class InputError(ValueError):
    """A path the user gave that cannot be ingested at all (missing, empty...)."""


@dataclass(frozen=True)
class Candidate:
    """A file to read: where it is, the id it will have, its manifest entry, and the root it came from."""

    path: Path
    doc_id: str
    root: str
    source: Source | None


def discover(paths: list[Path]) -> tuple[list[Candidate], dict[str, str]]:
    """Return the files under `paths` and {path: reason} for files passed over.

    A folder with a `sources.toml` names its documents by the manifest's ids;
    other files are named `<folder name>/<relative path>`. Hidden files and
    folders are ignored.
    """
    found: list[Candidate] = []
    skipped: dict[str, str] = {}
    if not paths:
        raise InputError("no folders or files given")
    for given in paths:
        path = Path(given).expanduser()
        if not path.exists():
            raise InputError(f"no such file or folder: {given}")
        root = path.resolve()
        if root.is_file():
            found.append(Candidate(root, root.name, str(root), None))
            continue
        manifest: dict[str, Source] = {}
        if (root / MANIFEST_NAME).is_file():
            try:
                manifest = load_manifest(root / MANIFEST_NAME)
            except ManifestError as exc:
                skipped[str(root / MANIFEST_NAME)] = str(exc)
        files = sorted(
            p for p in root.rglob("*") if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts)
        )
        count = 0
        for file in files:
            rel = file.relative_to(root).as_posix()
            if rel == MANIFEST_NAME:
                continue
            if file.suffix.lower() not in SUPPORTED:
                skipped[str(file)] = f"unsupported file type {file.suffix or '(none)'}"
                continue
            source = manifest.get(rel)
            doc_id = source.id if source else f"{root.name}/{rel}"
            found.append(Candidate(file, doc_id, str(root), source))
            count += 1
        if count == 0 and not any(str(root) in k for k in skipped):
            raise InputError(f"no documents in {given} (looked for {', '.join(sorted(SUPPORTED))})")
    return found, skipped
