"""`procure-ai bench --scale`: retrieval latency and memory at 10k to 1M passages, embedded and on a server.

Two steps. BUILD (slow, once, cached: evals/bench/scale_build.py). MEASURE
(fast, re-runnable): for each size a fresh child process opens the index and
times raw Chroma queries (k=100), our hybrid `Searcher.search` (with
precomputed question vectors, and again embedding each question), a scoped
hybrid search, and brute-force numpy over the same vectors as the floor; it
reports its RSS, and the server's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from evals.bench.scale_build import (QueryVectors, _paths, _query_table, build, build_server, label, prepare)
from evals.bench.servers import BenchError, chroma_server, rss_mb
from evals.bench.synthetic import SyntheticCorpus
from evals.metrics import percentile
from index.index import Index

DEFAULT_CACHE = Path.home() / ".cache" / "procure-ai" / "scale"
K_RAW = 100  # what Searcher asks Chroma for


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
    from corpus.records import Scope
    from index.embedder import Embedder
    from index.search import Searcher

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
    cmd = [sys.executable, "-m", "evals.bench.scale", what, str(n), str(cache), str(questions or 0)] + ([url] if url else [])
    root = Path(__file__).resolve().parents[2]
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


if __name__ == "__main__":  # the measuring child: python -m evals.bench.scale embedded|server|numpy N CACHE QUESTIONS [URL]
    from corpus.settings import offline_environment

    offline_environment()
    what, n, cache, limit = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4]) or None
    out = (measure_numpy(n, cache, questions=limit) if what == "numpy" else
           measure_store(n, cache, sys.argv[5] if what == "server" else None, questions=limit))
    print(json.dumps(out))
