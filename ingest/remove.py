"""Works out which documents a removal takes out of the index (`procure-ai remove`); it never touches the index."""

from __future__ import annotations

from pathlib import Path

from corpus.records import Changes, DocumentEntry
from ingest.discover import InputError


def plan_removal(targets: list[str], collections: list[str], previous: dict[str, DocumentEntry]) -> Changes:
    """The changes that take documents out of an index holding `previous`.

    Each target is a document id, or a path: a file's document, or every
    document from under a folder (the file or folder may be gone already).
    `collections` alone removes those collections whole; with targets, only
    the targets' documents within them. Raises InputError naming every target
    or collection that matches nothing, and then nothing is removed.
    """
    if not targets and not collections:
        raise InputError("name the documents to remove (ids or paths), or --collection NAME")
    inside = {d for d, e in previous.items() if not collections or e.collection in collections}
    unknown = [f"collection {name!r}" for name in collections if not any(e.collection == name for e in previous.values())]
    gone: set[str] = set() if targets else set(inside)
    for target in targets:
        hits = _matches(target, previous) & inside
        if not hits:
            unknown.append(repr(target) + (" in " + ", ".join(map(repr, collections)) if collections else ""))
        gone |= hits
    if unknown:
        raise InputError(f"not in the index: {', '.join(unknown)}; nothing was removed "
                         "(`procure-ai status` lists the documents by collection)")
    return Changes(documents={d: e for d, e in previous.items() if d not in gone}, removed=sorted(gone))


def _matches(target: str, previous: dict[str, DocumentEntry]) -> set[str]:
    """The document ids a target names: the id itself, else the documents of that file or from under that folder."""
    if target in previous:
        return {target}
    path = Path(target).expanduser().resolve()
    return {d for d, e in previous.items()
            if Path(e.path) == path or Path(e.root) == path or Path(e.path).is_relative_to(path)}
