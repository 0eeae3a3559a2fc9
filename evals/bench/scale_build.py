"""`procure-ai bench --scale`, step one: building the synthetic indexes, once, into a cache folder.

Each size's data dir is built by the same call an ingest makes, `Index.apply`,
over a seeded synthetic corpus (evals/bench/synthetic.py). The embedder is a
stand-in at the embedder's seam: passage i gets its precomputed vector (real
MiniLM vectors of base passages, mixed), and each sentence its passage's
vector jittered, because embedding a million passages for real would take
days on 2 cores. Everything else (Chroma, the keyword index, the sentence
store, the catalog) is the real thing. With `server`, the passages also go
into a `chroma run` server's folder through HTTP.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import numpy as np

from corpus.records import Changes
from evals.bench.servers import chroma_server
from evals.bench.synthetic import SyntheticCorpus, embed_bases, questions
from index.embedder import DEFAULT_MODEL
from index.index import Index

BATCH = 20_000  # passages generated and stored at a time while building through a server
HTTP_BUILD_MAX = 100_000  # larger server folders are copied from the embedded build (the same on-disk format)


def label(n: int) -> str:
    return f"{n // 1_000_000}M" if n % 1_000_000 == 0 else f"{n // 1000}k" if n % 1000 == 0 else str(n)


class QueryVectors:
    """An embedder for measuring: the gold and dev questions' vectors come from the cache, others are embedded."""

    name = DEFAULT_MODEL

    def __init__(self, table: dict[str, np.ndarray], real=None):
        self._table = table
        self.real = real  # an Embedder, for the questions the table lacks

    def embed_query(self, text: str) -> np.ndarray:
        if text in self._table:
            return self._table[text]
        return self.real.embed_query(text)


class SyntheticEmbedder:
    """Stands in for the embedder while a synthetic index is built: passage vectors from `vectors` in the
    order passages are embedded (the corpus's order), each sentence its passage's vector jittered."""

    name = DEFAULT_MODEL

    def __init__(self, vectors: np.ndarray, seed: int):
        self.vectors = vectors
        self.at = 0
        self.rng = np.random.default_rng(seed)

    def embed_with_spans(self, texts: list[str], spans: list[list[tuple[int, int]]]):
        rows = np.asarray(self.vectors[self.at : self.at + len(texts)], dtype=np.float32)
        self.at += len(texts)
        pooled = []
        for vector, own in zip(rows, spans):
            block = vector + self.rng.standard_normal((len(own), len(vector)), dtype=np.float32) * 0.03
            pooled.append(list(block / np.linalg.norm(block, axis=1, keepdims=True)))
        return rows, pooled

    def export_onnx(self) -> None:
        return None


# -- the cache ---------------------------------------------------------------
def _paths(cache: Path, n: int) -> dict[str, Path]:
    size = cache / f"n{label(n)}"
    return {"dir": size, "data": size / "data", "server": size / "server-chroma", "vectors": size / "vectors.npy",
            "build": size / "build.json", "server_build": size / "server-build.json"}


def prepare(cache: Path, embedder, corpus: SyntheticCorpus | None = None) -> tuple[SyntheticCorpus, np.ndarray]:
    """The synthetic corpus and its base vectors; the questions' vectors, cached beside them."""
    corpus = corpus or SyntheticCorpus()
    base = embed_bases(corpus, embedder, cache / "base-vectors.npy")
    if not (cache / "queries.npy").exists():
        texts = questions()
        np.save(cache / "queries.npy", embedder.embed(texts))
        (cache / "queries.json").write_text(json.dumps(texts), encoding="utf-8")
    return corpus, base


def _query_table(cache: Path, limit: int | None = None) -> dict[str, np.ndarray]:
    texts = json.loads((cache / "queries.json").read_text(encoding="utf-8"))
    return dict(list(zip(texts, np.load(cache / "queries.npy")))[:limit])


def _du(*paths: Path) -> int:
    total = 0
    for path in paths:
        for p in [path] if path.is_file() else path.rglob("*") if path.exists() else []:
            if p.is_file():
                total += p.stat().st_size
    return total


def build(n: int, cache: Path, corpus: SyntheticCorpus, base: np.ndarray, log=print) -> dict:
    """Write the size-n data dir through `Index.apply` unless the cache holds it; its build record."""
    p = _paths(cache, n)
    if p["build"].exists():
        return json.loads(p["build"].read_text(encoding="utf-8"))
    shutil.rmtree(p["dir"], ignore_errors=True)
    p["dir"].mkdir(parents=True)
    started = time.perf_counter()
    vectors = corpus.vectors(n, base, np.lib.format.open_memmap(p["vectors"], "w+", np.float32, (n, base.shape[1])))
    vectors.flush()
    timings = {"vectors_s": time.perf_counter() - started}
    t = time.perf_counter()
    documents = {entry.doc_id: entry for entry, _ in corpus.chunks(n)}  # the catalog first; the text is streamed
    timings["text_s"] = time.perf_counter() - t
    changes = Changes(documents=documents, fresh=(c for _, chunks in corpus.chunks(n) for c in chunks),
                      chunker={"synthetic": corpus.seed}, added=sorted(documents))
    index = Index(p["data"], SyntheticEmbedder(vectors, corpus.seed + 5))

    def progress(stage: str, done: int, total: int) -> None:
        if done % BATCH < index.settings.embed_batch * 4 or done == total:
            log(f"  {label(n)}: {done:,} of {total:,} passages stored ({time.perf_counter() - started:.0f} s)")

    with index.writing():
        report = index.apply(changes, index.recover(), progress)
    timings.update(report.timings)
    catalog = index.catalog()
    record = {
        "passages": n, "documents": len(catalog.documents), "sentences": len(index.sentences()),
        "load_avg_1m": round(os.getloadavg()[0], 2), "build_s": round(time.perf_counter() - started, 1),
        "timings_s": {k: round(v, 1) for k, v in timings.items()},
        "disk_mb": {"chroma": _mb(_du(p["data"] / "chroma")), "keyword": _mb(_du(p["data"] / catalog.keyword_dir)),
                    "sentences": _mb(_du(p["data"] / catalog.sentences_file)),
                    "catalog": _mb(_du(p["data"] / "catalog.json")), "vectors_npy": _mb(_du(p["vectors"]))},
    }
    p["build"].write_text(json.dumps(record, indent=1), encoding="utf-8")
    return record


def build_server(n: int, cache: Path, corpus: SyntheticCorpus, log=print) -> dict:
    """A `chroma run` server's folder holding the size-n passages, unless cached; its build record.

    Up to HTTP_BUILD_MAX passages go in through the server's HTTP API (the
    build time a user of --chroma-url would see); above that the embedded
    build's folder is copied, since `chroma run --path` reads the same format
    and an HTTP build of a million passages takes over an hour on 2 cores.
    """
    from index.store import ChromaStore, collection_name

    p = _paths(cache, n)
    if p["server_build"].exists():
        return json.loads(p["server_build"].read_text(encoding="utf-8"))
    shutil.rmtree(p["server"], ignore_errors=True)
    started = time.perf_counter()
    if n > HTTP_BUILD_MAX:
        shutil.copytree(p["data"] / "chroma", p["server"])
        record = {"passages": n, "how": "copied from the embedded build", "build_s": round(time.perf_counter() - started, 1),
                  "disk_mb": {"chroma": _mb(_du(p["server"]))}}
        p["server_build"].write_text(json.dumps(record, indent=1), encoding="utf-8")
        return record
    vectors = np.load(p["vectors"], mmap_mode="r")
    with chroma_server(p["server"]) as (url, _):
        store = ChromaStore(collection_name(DEFAULT_MODEL), url=url)
        stored = 0
        for _, chunks in _batches(corpus.chunks(n), BATCH):
            store.add(chunks, np.asarray(vectors[stored: stored + len(chunks)]))
            stored += len(chunks)
            log(f"  {label(n)} server: {stored:,} passages stored ({time.perf_counter() - started:.0f} s)")
    record = {"passages": n, "how": "through the server's HTTP API", "load_avg_1m": round(os.getloadavg()[0], 2),
              "build_s": round(time.perf_counter() - started, 1), "disk_mb": {"chroma": _mb(_du(p["server"]))}}
    p["server_build"].write_text(json.dumps(record, indent=1), encoding="utf-8")
    return record


def _batches(items, size: int):
    entries, chunks = [], []
    for entry, part in items:
        entries.append(entry)
        chunks.extend(part)
        if len(chunks) >= size:
            yield entries, chunks
            entries, chunks = [], []
    if chunks:
        yield entries, chunks


def _mb(nbytes: int) -> float:
    return round(nbytes / 2**20, 1)
