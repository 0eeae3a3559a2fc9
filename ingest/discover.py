"""Finds the files to ingest under the paths a user gives, with their manifest entries and ids."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from corpus.manifest import MANIFEST_NAME, MANIFEST_PATH, ManifestError, load_manifest
from corpus.records import Source
from ingest.readers import SUPPORTED


class InputError(ValueError):
    """A path the user gave that cannot be ingested at all (missing, empty...)."""


@dataclass(frozen=True)
class Candidate:
    """A file to read: where it is, the id it will have, its manifest entry, the root it came from, and the
    collection it joins."""

    path: Path
    doc_id: str
    root: str
    source: Source | None
    collection: str = ""


def discover(paths: list[Path], collection: str | None = None,
             known: dict[str, str] | None = None) -> tuple[list[Candidate], dict[str, str]]:
    """Return the files under `paths` and {path: reason} for files and folders passed over.

    A folder with a `sources.toml` names its documents by the manifest's ids;
    a file given on its own that the project's manifest (corpus/sources.toml)
    lists, by its checksum, takes that entry (the Welsh edition of a toolkit
    kept outside the mirror is still its pair); other files are named
    `<folder name>/<relative path>`. Hidden files and
    folders are ignored. A document's collection is `collection` if given,
    else its manifest entry's, else the one its folder's documents had when
    ingested before (`known`: root -> that collection, "" if they had
    several), else the folder's name. A root in `known` may be empty: its
    documents then leave the index.
    """
    found: list[Candidate] = []
    skipped: dict[str, str] = {}
    known = known or {}
    if not paths:
        raise InputError("no folders or files given")
    for given in paths:
        path = Path(given).expanduser()
        if not path.exists():
            raise InputError(f"no such file or folder: {given}")
        root = path.resolve()
        if root.is_file():
            source = _listed(root)
            found.append(Candidate(root, source.id if source else root.name, str(root), source,
                                   collection or known.get(str(root)) or (source.provenance.collection if source else "")
                                   or root.parent.name))
            continue
        try:
            with os.scandir(root):
                pass
        except OSError as exc:
            raise InputError(f"cannot read folder {given}: {(exc.strerror or str(exc)).lower()}") from None
        manifest: dict[str, Source] = {}
        try:
            has_manifest = (root / MANIFEST_NAME).is_file()
        except OSError:
            has_manifest = False
        if has_manifest:
            try:
                manifest = load_manifest(root / MANIFEST_NAME)
            except ManifestError as exc:
                skipped[str(root / MANIFEST_NAME)] = str(exc)
        count = 0
        for file in _files(root, skipped):
            rel = file.relative_to(root).as_posix()
            if rel == MANIFEST_NAME:
                continue
            if file.suffix.lower() not in SUPPORTED:
                skipped[str(file)] = f"unsupported file type {file.suffix or '(none)'}"
                continue
            source = manifest.get(rel)
            doc_id = source.id if source else f"{root.name}/{rel}"
            found.append(Candidate(file, doc_id, str(root), source, collection or (source.provenance.collection if source else "")
                                   or known.get(str(root)) or root.name))
            count += 1
        if count == 0 and str(root) not in known and not any(str(root) in k for k in skipped):
            raise InputError(f"no documents in {given} (looked for {', '.join(sorted(SUPPORTED))})")
    return found, skipped


def _listed(file: Path) -> Source | None:
    """The project manifest's entry for a file with the same bytes, if it lists one."""
    try:
        listed = _project_sources()
        if not listed or file.stat().st_size > 200_000_000:
            return None
        return listed.get(hashlib.sha256(file.read_bytes()).hexdigest())
    except OSError:
        return None  # reading it fails later, with the reason


@lru_cache(maxsize=1)
def _project_sources() -> dict[str, Source]:
    """The project's manifest by checksum ({} when it cannot be read)."""
    try:
        return {s.sha256: s for s in load_manifest(MANIFEST_PATH).values() if s.sha256}
    except ManifestError:
        return {}


def _files(root: Path, skipped: dict[str, str]) -> list[Path]:
    """The files under `root`, sorted, hidden ones left out; a folder that cannot be read goes into `skipped`."""

    def unreadable(exc: OSError) -> None:
        skipped[str(exc.filename or root)] = f"cannot read folder: {(exc.strerror or str(exc)).lower()}"

    files = []
    for folder, dirs, names in os.walk(root, onerror=unreadable):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        files.extend(Path(folder) / n for n in names if not n.startswith(".") and (Path(folder) / n).is_file())
    return sorted(files)
