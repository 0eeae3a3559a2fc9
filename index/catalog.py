"""The catalog: which documents and chunk ids make up the live index, committed atomically.

Chroma holds vectors; the catalog (one JSON file, replaced with os.replace)
says which of them are live. An ingest first writes a journal naming the ids it
is about to add and remove, then changes Chroma, then commits a new catalog,
then cleans up. Readers trust only the catalog and exclude whatever the
journal says is not yet (or no longer) live, so a killed ingest never shows a
half-built index; the next ingest finishes the clean-up. The catalog also
names the store and collection that hold its vectors, and their fingerprint
(count and a hash of the ids), so a store that lost them is noticed.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO

from corpus.records import DocumentEntry

FORMAT = 1  # catalogs written before `store` and `fingerprint` existed are read as they are
CATALOG = "catalog.json"
JOURNAL = "journal.json"
EMBEDDED = "embedded"  # `Catalog.store` of an index whose Chroma lives in the data dir (so the dir can move)


def fingerprint(ids) -> dict:
    """What a store holding exactly these passage ids looks like: their count and a hash of them, sorted."""
    digest = hashlib.sha256()
    count = 0
    for cid in sorted(ids):
        digest.update(cid.encode() + b"\n")
        count += 1
    return {"count": count, "ids_sha256": digest.hexdigest()}


@dataclass
class Catalog:
    """The live index: its generation, model, the Chroma store and collection that hold its vectors (and
    their fingerprint when committed), the files of its keyword index and sentence store, and every
    document with its chunk ids in order."""

    generation: int = 0
    model: str = ""
    collection: str = ""
    store: str = ""  # EMBEDDED or the Chroma server's URL ("" in catalogs written before it was recorded)
    fingerprint: dict = field(default_factory=dict)  # fingerprint() of the live ids, as committed
    chunker: dict = field(default_factory=dict)
    keyword_dir: str = ""
    sentences_file: str = ""  # the SentenceStore folder of this generation (index/sentences.py)
    documents: dict[str, DocumentEntry] = field(default_factory=dict)

    def chunk_ids(self) -> set[str]:
        return {cid for doc in self.documents.values() for cid in doc.chunk_ids}

    def to_dict(self) -> dict:
        fields = {k: v for k, v in asdict(self).items() if k != "documents"}
        return {"format": FORMAT, **fields, "documents": {k: d.to_dict() for k, d in self.documents.items()}}

    @classmethod
    def from_dict(cls, data: dict) -> "Catalog":
        docs = {k: DocumentEntry.from_dict(v) for k, v in data.get("documents", {}).items()}
        fields = {k: v for k, v in data.items() if k in cls.__dataclass_fields__ and k != "documents"}
        return cls(**fields, documents=docs)


@dataclass
class Journal:
    """An ingest in progress: `adding` goes live and `removing` goes away at `generation`."""

    generation: int
    collection: str
    adding: list[str] = field(default_factory=list)
    removing: list[str] = field(default_factory=list)

    def not_live(self, committed_generation: int) -> set[str]:
        """Ids a reader must ignore, given the generation the catalog is at."""
        return set(self.removing if committed_generation >= self.generation else self.adding)


def write_atomic(path: Path, write: Callable[[IO], None], binary: bool = False) -> None:
    """Write a file so that readers see the old one or the new one, never a partial one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb" if binary else "w", **({} if binary else {"encoding": "utf-8"})) as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json_atomic(path: Path, data: dict) -> None:
    write_atomic(path, lambda fh: json.dump(data, fh, ensure_ascii=False))


def load_catalog(data_dir: Path) -> Catalog:
    path = Path(data_dir) / CATALOG
    if not path.exists():
        return Catalog()
    data = json.loads(path.read_text(encoding="utf-8"))
    if data.get("format") != FORMAT:
        raise ValueError(f"{path} was written by another version of procure-ai; re-ingest into a new data dir")
    return Catalog.from_dict(data)


def save_catalog(data_dir: Path, catalog: Catalog) -> None:
    write_json_atomic(Path(data_dir) / CATALOG, catalog.to_dict())


def load_journal(data_dir: Path) -> Journal | None:
    path = Path(data_dir) / JOURNAL
    if not path.exists():
        return None
    return Journal(**json.loads(path.read_text(encoding="utf-8")))


def save_journal(data_dir: Path, journal: Journal) -> None:
    write_json_atomic(Path(data_dir) / JOURNAL, asdict(journal))


def clear_journal(data_dir: Path) -> None:
    (Path(data_dir) / JOURNAL).unlink(missing_ok=True)
