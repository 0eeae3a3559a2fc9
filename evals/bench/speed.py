"""`procure-ai bench`: ingest, retrieval and answer speed on this machine, printed and saved.

Measures a cold ingest of a corpus into a fresh data dir and an unchanged
re-ingest; warm per-question latency (p50/p95/p99) for retrieval alone and for
the full offline answer over the gold and dev questions (each asked once, so
no answer comes from a cache); the same questions through the textbook
LlamaIndex pipeline, as a ratio; and the process's peak memory.
"""

from __future__ import annotations

import json
import platform
import resource
import tempfile
import time
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

from corpus.settings import Settings
from evals.cases import DEV, GOLD, load_cases
from evals.metrics import percentile


def _stats(values: list[float]) -> dict:
    return {f"p{q}": round(percentile(values, q), 1) for q in (50, 95, 99)}


def run_bench(settings: Settings, corpus: Path, factory, textbook=None, limit: int | None = None) -> dict:
    """Measure on `corpus`, ingested into a fresh temporary data dir. `factory` builds the parts
    (assistant/factory.py: build_index, ingest, build_assistant, offline); `textbook` is the LlamaIndex
    retriever class to compare with (evals/baseline.py), or None; `limit` times only that many questions."""
    data_dir = Path(tempfile.mkdtemp(prefix="procure-ai-bench-"))
    fresh = replace(factory.offline(settings), data_dir=data_dir)
    started = time.perf_counter()
    index = factory.build_index(fresh)
    report = factory.ingest(fresh, [corpus], index)
    cold = time.perf_counter() - started
    t = time.perf_counter()
    again = factory.ingest(fresh, [corpus], index)
    unchanged = time.perf_counter() - t
    served = factory.build_index(fresh)  # a new process's view: questions embedded as `serve` embeds them (ONNX)
    assistant = factory.build_assistant(fresh, index=served)
    t = time.perf_counter()
    assistant.ask("Who should be involved when buying AI?")
    first_answer = time.perf_counter() - t
    questions = [c.question for c in load_cases(GOLD) + load_cases(DEV)][:limit]
    retrieval, answers = [], []
    for q in questions:  # warm up, untimed: right after an ingest Chroma is still settling its new index
        assistant.searcher.search(q + " .")
    for q in questions:
        t = time.perf_counter()
        assistant.searcher.search(q + " ?")  # a different string: not the query-vector cache
        retrieval.append((time.perf_counter() - t) * 1000)
    models = {name: getattr(assistant.searcher, name, None) for name in ("judge", "premise")}  # trained models
    models = {name: m for name, m in models.items() if m is not None}
    spent = {name: [0.0, 0] for name in models}
    for q in questions:
        before = {name: (m.model_seconds, m.pairs_scored) for name, m in models.items()}
        t = time.perf_counter()
        assistant.ask(q)
        answers.append((time.perf_counter() - t) * 1000)
        for name, m in models.items():
            spent[name][0] += m.model_seconds - before[name][0]
            spent[name][1] += m.pairs_scored - before[name][1]
    result = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {"cpus": __import__("os").cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "config": {"model": index.embedder.name, "query_embedding": served.embedder.backend,
                   "chunk_tokens": fresh.ingest.chunk_tokens, "search_mode": fresh.retrieval.mode,
                   "top_k": fresh.retrieval.top_k,
                   "questions": len(questions)},
        "ingest": {"documents": report.documents, "passages": report.chunks, "cold_s": round(cold, 2),
                   "passages_per_s": round(report.chunks / cold, 1), "timings_s": report.timings,
                   "unchanged_reingest_s": round(unchanged, 3), "unchanged_embedded": again.embedded_chunks},
        "first_answer_after_ingest_s": round(first_answer, 2),
        "retrieval_ms": _stats(retrieval),
        "answer_ms": _stats(answers),
        **{name: {"ms_per_answer": round(seconds * 1000 / max(len(questions), 1), 1),
                  "pairs_per_answer": round(pairs / max(len(questions), 1), 1),
                  "share_of_answer_time": round(seconds * 1000 / max(sum(answers), 1e-9), 3)}
           for name, (seconds, pairs) in spent.items()},
    }
    if textbook is not None:
        t = time.perf_counter()
        baseline = textbook(corpus, Path(tempfile.mkdtemp(prefix="procure-ai-textbook-")),
                            served.embedder, fresh.retrieval.top_k)  # the same embedder as ours
        build = time.perf_counter() - t
        times = []
        for q in questions:
            t = time.perf_counter()
            baseline.search(q + " ?")
            times.append((time.perf_counter() - t) * 1000)
        result["textbook"] = {"ingest_s": round(build, 2), "retrieval_ms": _stats(times),
                              "retrieval_p50_ratio_ours_to_textbook": round(percentile(retrieval, 50) / max(percentile(times, 50), 1e-9), 2)}
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    result["cold_start_s"] = cold_start(data_dir)
    return result


def cold_start(data_dir: Path, question: str = "Who should be involved when buying AI?") -> dict:
    """Seconds from starting a fresh process to its first answer: `procure-ai ask`, and `procure-ai serve`
    answering POST /api/ask (polled every 0.1 s until it listens)."""
    import subprocess
    import sys
    import urllib.request

    from evals.bench.load import served

    root = Path(__file__).resolve().parents[2]
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "assistant.cli.main", "ask", question, "--data-dir", str(data_dir), "--json"],
                   cwd=root, check=True, capture_output=True)
    ask = time.perf_counter() - t
    t = time.perf_counter()
    with served(data_dir, poll_s=0.1) as (url, _, _):
        request = urllib.request.Request(url + "/api/ask", json.dumps({"question": question}).encode(),
                                         {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=120) as response:
            response.read()
        serve = time.perf_counter() - t
    return {"ask": round(ask, 2), "serve_first_answer": round(serve, 2)}


def save(result: dict, folder: Path, kind: str = "bench") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    date = result.get("date") or datetime.now(timezone.utc).isoformat(timespec="seconds")
    path = folder / f"{kind}-{date.replace(':', '')}.json"
    path.write_text(json.dumps(result, indent=1), encoding="utf-8")
    return path


def table(result: dict) -> str:
    rows = [
        ("documents / passages", f"{result['ingest']['documents']} / {result['ingest']['passages']}"),
        ("cold ingest (s, incl. model load)", result["ingest"]["cold_s"]),
        ("ingest split (s)", ", ".join(f"{k} {v}" for k, v in result["ingest"]["timings_s"].items())),
        ("unchanged re-ingest (s)", result["ingest"]["unchanged_reingest_s"]),
        ("first answer after ingest (s)", result["first_answer_after_ingest_s"]),
        ("retrieval ms p50/p95/p99", "/".join(str(v) for v in result["retrieval_ms"].values())),
        ("offline answer ms p50/p95/p99", "/".join(str(v) for v in result["answer_ms"].values())),
    ]
    for name in ("judge", "premise"):  # the trained models' share (the premise check: assistant/judge/premise.py)
        if result.get(name):
            j = result[name]
            rows.append((f"{name}: ms / pairs per answer, share", f"{j['ms_per_answer']} / {j['pairs_per_answer']}, "
                                                               f"{j['share_of_answer_time']:.0%}"))
    if "textbook" in result:
        rows.append(("textbook retrieval ms p50/p95/p99", "/".join(str(v) for v in result["textbook"]["retrieval_ms"].values())))
        rows.append(("retrieval p50, ours / textbook", result["textbook"]["retrieval_p50_ratio_ours_to_textbook"]))
    rows.append(("peak RSS (MB)", result["peak_rss_mb"]))
    if "cold_start_s" in result:
        rows.append(("cold start to first answer (s): ask / serve",
                     f"{result['cold_start_s']['ask']} / {result['cold_start_s']['serve_first_answer']}"))
    return "\n".join(f"{name:38s} {value}" for name, value in rows)
