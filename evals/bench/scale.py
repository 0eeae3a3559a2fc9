"""`procure-ai bench --scale`: retrieval latency and memory at 10k to 1M passages, embedded and on a server.

Two steps. BUILD (slow, once, cached under the cache folder): a seeded
synthetic corpus (evals/synthetic.py) is written to a data dir the way ingest
writes one (the Chroma collection Index expects, the BM25 index from
`Index.build_keyword_index`, the catalog), and, with `server`, into a
`chroma run` server's folder through HTTP. MEASURE (fast, re-runnable): for
each size a fresh child process opens the index and times raw Chroma queries
(k=100), our hybrid `Searcher.search` (with precomputed question vectors, and
again embedding each question), a scoped hybrid search, and brute-force numpy
over the same vectors as the floor; it reports its RSS, and the server's.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from evals.metrics import percentile
from evals.synthetic import SyntheticCorpus, embed_bases, questions
from index.catalog import Catalog, clear_journal, save_catalog
from index.embedder import DEFAULT_MODEL
from index.index import Index

DEFAULT_CACHE = Path.home() / ".cache" / "procure-ai" / "scale"
K_RAW = 100  # what Searcher asks Chroma for
BATCH = 20_000  # passages generated and stored at a time while building
HTTP_BUILD_MAX = 100_000  # larger server folders are copied from the embedded build (the same on-disk format)


class BenchError(ChildProcessError):
    """A process the benchmark started (a server, a measuring child) failed; the message says which."""


def parse_sizes(text: str) -> list[int]:
    """'10k,100k,1M' -> [10000, 100000, 1000000]."""
    sizes = []
    for part in (p.strip() for p in text.split(",") if p.strip()):
        scale = {"k": 1_000, "m": 1_000_000}.get(part[-1].lower(), 1)
        try:
            n = int(float(part[:-1] if scale > 1 else part) * scale)
        except ValueError:
            raise ValueError(f"bad size {part!r}: use e.g. 10k,100k,1M") from None
        if n < 100:
            raise ValueError(f"size {part!r} is too small: at least 100 passages")
        sizes.append(n)
    if not sizes:
        raise ValueError("give sizes, e.g. --scale 10k,100k,1M")
    return sizes


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
    """Write the size-n data dir (embedded Chroma, BM25, catalog) unless the cache holds it; its build record."""
    p = _paths(cache, n)
    if p["build"].exists():
        return json.loads(p["build"].read_text(encoding="utf-8"))
    shutil.rmtree(p["dir"], ignore_errors=True)
    p["dir"].mkdir(parents=True)
    started = time.perf_counter()
    vectors = corpus.vectors(n, base, np.lib.format.open_memmap(p["vectors"], "w+", np.float32, (n, base.shape[1])))
    vectors.flush()
    timings = {"vectors_s": time.perf_counter() - started}
    index = Index(p["data"], QueryVectors({}))
    catalog = Catalog(generation=1, model=DEFAULT_MODEL, collection=index.collection,
                      chunker={"synthetic": corpus.seed})
    fresh, stored, t_store, t_gen, t = {}, 0, 0.0, 0.0, time.perf_counter()
    for entry, chunks in _batches(corpus.chunks(n), BATCH):
        t_gen += time.perf_counter() - t
        t = time.perf_counter()
        for e in entry:
            catalog.documents[e.doc_id] = e
        index.store.add(chunks, vectors[stored: stored + len(chunks)])
        fresh.update((c.chunk_id, c) for c in chunks)
        stored += len(chunks)
        t_store += time.perf_counter() - t
        log(f"  {label(n)}: {stored:,} passages stored ({t_store:.0f} s in Chroma)")
        t = time.perf_counter()
    timings.update(text_s=t_gen, chroma_add_s=t_store)
    t = time.perf_counter()
    catalog.keyword_dir = index.build_keyword_index(catalog, fresh)
    timings["keyword_s"] = time.perf_counter() - t
    t = time.perf_counter()
    save_catalog(p["data"], catalog)
    clear_journal(p["data"])
    timings["catalog_s"] = time.perf_counter() - t
    record = {
        "passages": n, "documents": len(catalog.documents), "load_avg_1m": round(os.getloadavg()[0], 2),
        "build_s": round(time.perf_counter() - started, 1), "timings_s": {k: round(v, 1) for k, v in timings.items()},
        "disk_mb": {"chroma": _mb(_du(p["data"] / "chroma")), "keyword": _mb(_du(p["data"] / catalog.keyword_dir)),
                    "catalog": _mb(_du(p["data"] / "catalog.json")), "vectors_npy": _mb(_du(p["vectors"]))},
    }
    p["build"].write_text(json.dumps(record, indent=1), encoding="utf-8")
    return record


def add_sentences(n: int, cache: Path, corpus: SyntheticCorpus, log=print) -> dict:
    """The sentence vectors an ingest stores beside the passages (index/sentences.py), added to the size-n
    data dir unless it has them: each sentence's vector is its passage's, jittered. Written straight into
    the memory-mapped store a batch at a time (at 1M passages the table is ~12 GB). Its record."""
    from index.catalog import load_catalog
    from index.sentences import chunk_sentence_spans, sentence_key, store_writer, write_lookup

    p = _paths(cache, n)
    marker = p["dir"] / "sentences.json"
    if marker.exists():
        record = json.loads(marker.read_text(encoding="utf-8"))
        if record.get("format") == "store":
            return record
    started = time.perf_counter()
    vectors = np.load(p["vectors"], mmap_mode="r")
    ids, counts, keys = [], [], []
    for _, chunks in corpus.chunks(n):  # the passages in build order: passage i has vector row i
        for chunk in chunks:
            texts, _ = chunk_sentence_spans(chunk.text, chunk.embedding_text())
            ids.append(chunk.chunk_id)
            counts.append(len(texts))
            keys.append(np.array([sentence_key(t) for t in texts], dtype="S16"))
    t_text = time.perf_counter() - started
    ids, counts = np.array(ids), np.array(counts, dtype=np.int64)
    order = np.argsort(ids, kind="stable")  # the store groups rows by sorted chunk id
    firsts = np.r_[0, np.cumsum(counts)[:-1]]
    sorted_counts = counts[order]
    total = int(counts.sum())
    starts = np.r_[0, np.cumsum(sorted_counts)]
    # row r of the store is row src[r] in build order, and belongs to passage owner[r]
    src = np.repeat(firsts[order] - starts[:-1], sorted_counts) + np.arange(total)
    owner = np.repeat(order, sorted_counts)
    row_keys = np.concatenate(keys)[src]
    catalog = load_catalog(p["data"])
    catalog.sentences_file = f"sentences-{catalog.generation}"
    rng = np.random.default_rng(corpus.seed + 5)
    with store_writer(p["data"] / catalog.sentences_file) as tmp:
        out = np.lib.format.open_memmap(tmp / "vectors.npy", "w+", np.float32, (total, vectors.shape[1]))
        for a in range(0, total, 500_000):
            b = min(a + 500_000, total)
            block = vectors[owner[a:b]] + rng.standard_normal((b - a, vectors.shape[1]), dtype=np.float32) * 0.03
            out[a:b] = block / np.linalg.norm(block, axis=1, keepdims=True)
            log(f"  {label(n)}: {b:,} of {total:,} sentence vectors written")
        out.flush()
        del out
        write_lookup(tmp, ids[order], starts, row_keys)
    save_catalog(p["data"], catalog)
    for old in p["data"].glob("sentences-*.npz"):  # an earlier build's in-RAM table
        old.unlink()
    record = {"format": "store", "sentences": total, "build_s": round(time.perf_counter() - started, 1),
              "text_s": round(t_text, 1), "disk_mb": _mb(_du(p["data"] / catalog.sentences_file))}
    marker.write_text(json.dumps(record, indent=1), encoding="utf-8")
    log(f"  {label(n)}: {total:,} sentence vectors added")
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


# -- a Chroma server on loopback ------------------------------------------------
def chroma_binary() -> str:
    found = shutil.which("chroma") or str(Path(sys.executable).with_name("chroma"))
    if not Path(found).exists():
        raise BenchError("the chroma CLI (installed with chromadb) was not found")
    return found


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_chroma(path: Path, port: int, timeout: float = 120) -> subprocess.Popen:
    """`chroma run --path path` on 127.0.0.1:port, returned once its heartbeat answers."""
    import urllib.request

    proc = subprocess.Popen([chroma_binary(), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + timeout
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=2)
            return proc
        except OSError:
            if proc.poll() is not None or time.time() > deadline:
                proc.kill()
                raise BenchError(f"chroma run --path {path} did not start on port {port}") from None
            time.sleep(0.2)


@contextmanager
def chroma_server(path: Path):
    """A Chroma server over `path` for the duration: yields (url, process)."""
    port = free_port()
    proc = start_chroma(path, port)
    try:
        yield f"http://127.0.0.1:{port}", proc
    finally:
        stop(proc, 30)


def stop(proc: subprocess.Popen, timeout: float) -> None:
    """Ask a server we started to stop; kill it if it has not within `timeout` seconds."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()


def rss_mb(pid: int | str = "self") -> dict:
    """VmRSS (now) and VmHWM (peak) of a process, in MB, and RSS split into private memory (anon) and mapped
    file pages (file: memory-mapped indexes, which are page cache the kernel can drop, not the process's own)."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
            fields[key] = round(int(value.split()[0]) / 1024, 1)
    return {"rss_mb": fields.get("VmRSS"), "peak_rss_mb": fields.get("VmHWM"), "anon_mb": fields.get("RssAnon"),
            "file_mb": fields.get("RssFile")}


# -- measuring (each size in a fresh process, so RSS is that size's alone) ------
def _stats(ms: list[float]) -> dict:
    return {"p50": round(percentile(ms, 50), 2), "p95": round(percentile(ms, 95), 2), "n": len(ms)}


def _time(fn, *args, **kwargs) -> float:
    """Milliseconds one call takes."""
    t = time.perf_counter()
    fn(*args, **kwargs)
    return (time.perf_counter() - t) * 1000


def measure_store(n: int, cache: Path, url: str | None = None, passes: int = 2, questions: int | None = None) -> dict:
    """Raw Chroma k=100 and hybrid Searcher latency over the size-n index; this process's memory.

    The kinds of query take turns question by question, so a burst of load
    from elsewhere on the machine slows all of them alike rather than one.
    """
    from index.embedder import Embedder
    from index.search import Scope, Searcher

    p = _paths(cache, n)
    table = _query_table(cache, questions)
    index = Index(p["data"], QueryVectors(table), chroma_url=url)
    searcher = Searcher(index)
    scope = Scope(collections=frozenset({"Contract clauses"}))  # one collection: an eighth of the passages
    first_query = _time(index.dense, table[next(iter(table))], K_RAW)
    first_search = _time(searcher.search, next(iter(table)))
    memory = rss_mb()  # the index open and searched once; the model not loaded
    real = index.embedder.real = Embedder(onnx_dir=cache / "models").load()  # the ONNX export, as `serve` embeds
    for q in table:  # warm the model on these lengths (torch prepares kernels per input shape), as a server is
        real.embed_query(q + " .")
    ms: dict[str, list[float]] = {k: [] for k in ("raw", "hybrid", "scoped", "embedded", "embed_only")}
    for turn in range(passes):
        for q, v in table.items():
            ms["raw"].append(_time(index.dense, v, K_RAW))
            ms["hybrid"].append(_time(searcher.search, q))
            if turn == 0:
                ms["scoped"].append(_time(searcher.search, q, scope=scope))
                ms["embedded"].append(_time(searcher.search, q + " ?"))  # not in the table: the question embedded
                ms["embed_only"].append(_time(real.embed_query, q + " !"))
    return {
        "first_query_ms": round(first_query, 1), "first_search_s": round(first_search / 1000, 2),
        "raw_ms": _stats(ms["raw"]), "hybrid_ms": _stats(ms["hybrid"]), "hybrid_scoped_ms": _stats(ms["scoped"]),
        "hybrid_with_embedding_ms": _stats(ms["embedded"]), "query_embedding_ms": _stats(ms["embed_only"]),
        **memory, "with_model_rss_mb": rss_mb()["rss_mb"], "after_mb": rss_mb(),
    }


def measure_numpy(n: int, cache: Path, passes: int = 2, questions: int | None = None) -> dict:
    """The floor: exact top-100 by brute force over the same vectors held in RAM."""
    vectors = np.load(_paths(cache, n)["vectors"])
    queries = list(_query_table(cache, questions).values())

    def top(v):
        scores = vectors @ v
        best = np.argpartition(-scores, K_RAW)[:K_RAW]
        return best[np.argsort(-scores[best])]

    top(queries[0])
    return {"raw_ms": _stats([_time(top, q) for q in queries * passes]), **rss_mb()}


def _child(what: str, n: int, cache: Path, url: str | None = None, questions: int | None = None) -> dict:
    cmd = [sys.executable, "-m", "evals.scale", what, str(n), str(cache), str(questions or 0)] + ([url] if url else [])
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=root)
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise BenchError(f"measuring {what} at {label(n)} failed: {tail}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_scale(sizes: list[int], cache: Path = DEFAULT_CACHE, server: bool = False, embedder=None, log=print,
              corpus: SyntheticCorpus | None = None, questions: int | None = None) -> dict:
    """Build what the cache lacks, then measure every size; the result as one JSON-able dict.

    A cache holds one corpus: pass the same `corpus` (default SyntheticCorpus()) every time.
    `questions` measures only the first so many (default: all the gold and dev questions)."""
    from index.embedder import Embedder

    cache.mkdir(parents=True, exist_ok=True)
    if not (cache / "queries.npy").exists() or not (cache / "base-vectors.npy").exists():
        log("embedding the base passages and the questions (once)")
    corpus, base = prepare(cache, embedder or Embedder(), corpus)
    Embedder(onnx_dir=cache / "models").export_onnx()  # questions are embedded the way `serve` embeds them
    result = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "cache": str(cache),
              "machine": {"cpus": os.cpu_count(), "load_avg": os.getloadavg()[0]},
              "questions": len(_query_table(cache, questions)), "k_raw": K_RAW, "sizes": {}}
    for n in sizes:
        entry = result["sizes"][label(n)] = {"passages": n, "build": build(n, cache, corpus, base, log)}
        entry["sentences"] = add_sentences(n, cache, corpus, log)
        if server:
            entry["server_build"] = build_server(n, cache, corpus, log)
    for n in sizes:
        entry = result["sizes"][label(n)]
        log(f"measuring {label(n)}: embedded")
        entry["embedded"] = _child("embedded", n, cache, questions=questions)
        if server:
            log(f"measuring {label(n)}: server")
            with chroma_server(_paths(cache, n)["server"]) as (url, proc):
                entry["server"] = _child("server", n, cache, url, questions)
                entry["server"]["server_rss"] = rss_mb(proc.pid)
        log(f"measuring {label(n)}: numpy")
        entry["numpy"] = _child("numpy", n, cache, questions=questions)
    return result


def save(result: dict, folder: Path) -> tuple[Path, Path]:
    """The result as JSON and its plot as PNG, named by date."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = folder / f"scale-{result['date'].replace(':', '')}"
    stem.with_suffix(".json").write_text(json.dumps(result, indent=1), encoding="utf-8")
    return stem.with_suffix(".json"), plot(result, stem.with_suffix(".png"))


def _series(result: dict):
    sizes = list(result["sizes"].values())
    xs = [s["passages"] for s in sizes]
    lines = {}
    for backend in ("embedded", "server"):
        if all(backend in s for s in sizes):
            lines[f"Chroma {backend}, raw k=100"] = [s[backend]["raw_ms"]["p95"] for s in sizes]
            lines[f"hybrid search, {backend}"] = [s[backend]["hybrid_ms"]["p95"] for s in sizes]
            lines[f"hybrid + question embedding, {backend}"] = [s[backend]["hybrid_with_embedding_ms"]["p95"] for s in sizes]
    lines["numpy brute force (floor)"] = [s["numpy"]["raw_ms"]["p95"] for s in sizes]
    memory = {"our process (embedded)": [s["embedded"]["rss_mb"] for s in sizes]}
    if all("server" in s for s in sizes):
        memory["our process (server)"] = [s["server"]["rss_mb"] for s in sizes]
        memory["chroma server"] = [s["server"]["server_rss"]["rss_mb"] for s in sizes]
    memory["numpy, vectors in RAM"] = [s["numpy"]["rss_mb"] for s in sizes]
    build = {"build, embedded (s)": [s["build"]["build_s"] for s in sizes],
             "disk, embedded Chroma (MB)": [s["build"]["disk_mb"]["chroma"] for s in sizes]}
    if all("server_build" in s for s in sizes):
        build["build, server (s; copied above 100k)"] = [s["server_build"]["build_s"] for s in sizes]
    return xs, lines, memory, build


def plot(result: dict, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xs, lines, memory, build = _series(result)
    fig, (left, right, third) = plt.subplots(1, 3, figsize=(17, 4.8))
    for name, ys in lines.items():
        left.plot(xs, ys, marker="o", label=name, linestyle="--" if "numpy" in name else ":" if "embedding" in name else "-")
    left.set(xscale="log", yscale="log", xlabel="passages", ylabel="p95 latency (ms)", title="Retrieval p95 vs corpus size")
    for name, ys in memory.items():
        right.plot(xs, ys, marker="o", label=name)
    right.set(xscale="log", yscale="log", xlabel="passages", ylabel="RSS (MB)", title="Memory vs corpus size")
    for name, ys in build.items():
        third.plot(xs, ys, marker="o", label=name)
    third.set(xscale="log", yscale="log", xlabel="passages", ylabel="seconds / MB", title="Build time and disk vs corpus size")
    for ax in (left, right, third):
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def table(result: dict) -> str:
    """Markdown tables: latency and memory per size and backend, then build cost."""
    rows = ["| passages | path | raw k=100 p50/p95 ms | hybrid p50/p95 ms | hybrid + embedding p50/p95 ms "
            "| hybrid, one collection p50/p95 ms | RSS MB (server RSS) | after the run: private / mapped files MB |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    pair = lambda s: f"{s['p50']} / {s['p95']}"  # noqa: E731
    for name, s in result["sizes"].items():
        for backend in ("embedded", "server"):
            if backend in s:
                m = s[backend]
                server = f" ({m['server_rss']['rss_mb']})" if "server_rss" in m else ""
                rows.append(f"| {name} | {backend} | {pair(m['raw_ms'])} | {pair(m['hybrid_ms'])} | "
                            f"{pair(m['hybrid_with_embedding_ms'])} | {pair(m['hybrid_scoped_ms'])} | {m['rss_mb']}{server} | "
                            f"{m.get('after_mb', {}).get('anon_mb')} / {m.get('after_mb', {}).get('file_mb')} |")
        rows.append(f"| {name} | numpy floor | {pair(s['numpy']['raw_ms'])} | | | | {s['numpy']['rss_mb']} | |")
    rows += ["", "| passages | build embedded (s) | split (s) | disk MB (Chroma / BM25 / catalog) | build via server (s) "
             "| server disk MB |", "| --- | --- | --- | --- | --- | --- |"]
    for name, s in result["sizes"].items():
        b, sb = s["build"], s.get("server_build")
        split = ", ".join(f"{k[:-2]} {v}" for k, v in b["timings_s"].items())
        disk = f"{b['disk_mb']['chroma']} / {b['disk_mb']['keyword']} / {b['disk_mb']['catalog']}"
        rows.append(f"| {name} | {b['build_s']} | {split} | {disk} | {sb['build_s'] if sb else ''} | "
                    f"{sb['disk_mb']['chroma'] if sb else ''} |")
    return "\n".join(rows)


if __name__ == "__main__":  # the measuring child: python -m evals.scale embedded|server|numpy N CACHE QUESTIONS [URL]
    from assistant.settings import offline_environment

    offline_environment()
    what, n, cache, limit = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4]) or None
    out = (measure_numpy(n, cache, questions=limit) if what == "numpy" else
           measure_store(n, cache, sys.argv[5] if what == "server" else None, questions=limit))
    print(json.dumps(out))
