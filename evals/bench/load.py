"""`procure-ai bench --load`: many users asking through POST /api/ask at once, for a fixed time.

Each simulated user is a thread with its own keep-alive HTTP connection (a
request on a connection the server closed while idle is retried once): it
asks a gold or dev question, waits for the answer, optionally pauses
(`think` on average: users arrive spread over one think time and pause
between half and one and a half of it, so they do not ask in step), and asks
the next, until the time is up. Every request is a
distinct string (the question with some words' case flipped: the model and
BM25 lower-case, so the answer is the same, but no cache recognises it).
An answer counts when it is HTTP 200 and JSON with an `answer`, and citations
unless it is a refusal; anything else is an error, counted by kind.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import random
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlparse

from evals.metrics import percentile


@dataclass
class LoadResult:
    """What a load run saw: answers, errors by kind, latency, throughput."""

    users: int
    seconds: float
    think_s: float
    url: str
    date: str = ""
    answers: int = 0
    refusals: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    wall_s: float = 0.0
    answers_per_s: float = 0.0
    latency_ms: dict[str, float] = field(default_factory=dict)
    server: dict = field(default_factory=dict)

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    def to_dict(self) -> dict:
        return {**asdict(self), "error_count": self.error_count}


def variant(question: str, n: int) -> str:
    """The n-th spelling of a question: the same words, some with their first letter's case flipped."""
    words = question.split(" ")
    rng = random.Random(n)
    for i in range(len(words)):
        if words[i][:1].isalpha() and rng.random() < 0.5:
            w = words[i]
            words[i] = (w[0].lower() if w[0].isupper() else w[0].upper()) + w[1:]
    return " ".join(words)


def check_answer(status: int, body: bytes) -> tuple[str | None, bool]:
    """(None for a good answer, else the kind of error; whether it is a refusal)."""
    if status != 200:
        return f"HTTP {status}", False
    try:
        data = json.loads(body)
    except ValueError:
        return "not JSON", False
    if not isinstance(data, dict) or not isinstance(data.get("answer"), str):
        return "no answer in the JSON", False
    if not data.get("refused") and not data.get("citations"):
        return "an answer without citations", False
    return None, bool(data.get("refused"))


def run_load(url: str, questions: list[str], users: int = 50, seconds: float = 30, think: float = 0.0,
             timeout: float = 120, auth: tuple[str, str] | None = None) -> LoadResult:
    """`users` threads asking `questions` (round robin, each a fresh spelling) at `url` for `seconds`;
    `auth` (user, password) for a server started with --auth."""
    parsed = urlparse(url)
    host, port = parsed.hostname or "127.0.0.1", parsed.port or 80
    result = LoadResult(users=users, seconds=seconds, think_s=think, url=url,
                        date=datetime.now(timezone.utc).isoformat(timespec="seconds"))
    headers = {"Content-Type": "application/json"}
    if auth:
        headers["Authorization"] = "Basic " + base64.b64encode(":".join(auth).encode()).decode()
    latencies: list[float] = []
    lock = threading.Lock()
    counter = iter(range(10**9))
    start = time.perf_counter()
    deadline = start + seconds

    def user(number: int):
        pause = random.Random(number)  # users arrive spread over one think time, and pause 0.5x-1.5x of it
        time.sleep(pause.uniform(0, think))
        conn = http.client.HTTPConnection(host, port, timeout=timeout)
        while time.perf_counter() < deadline:
            with lock:
                n = next(counter)
            body = json.dumps({"question": variant(questions[n % len(questions)], n)}).encode()
            for _ in range(2):  # like any HTTP client, retry once on a kept-alive connection the server closed
                t = time.perf_counter()
                try:
                    conn.request("POST", "/api/ask", body, headers)
                    response = conn.getresponse()
                    error, refused = check_answer(response.status, response.read())
                    break
                except (OSError, http.client.HTTPException) as exc:
                    error = "timeout" if isinstance(exc, TimeoutError) else type(exc).__name__
                    conn.close()
                    conn = http.client.HTTPConnection(host, port, timeout=timeout)
                    if not isinstance(exc, (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected)):
                        break
            elapsed = (time.perf_counter() - t) * 1000
            with lock:
                if error:
                    result.errors[error] = result.errors.get(error, 0) + 1
                else:
                    result.answers += 1
                    result.refusals += refused
                    latencies.append(elapsed)
            if think:
                time.sleep(think * pause.uniform(0.5, 1.5))
        conn.close()

    threads = [threading.Thread(target=user, args=(i,), daemon=True) for i in range(users)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.wall_s = round(time.perf_counter() - start, 2)
    result.answers_per_s = round(result.answers / result.wall_s, 2)
    result.latency_ms = {f"p{q}": round(percentile(latencies, q), 1) for q in (50, 95, 99)}
    result.latency_ms["max"] = round(max(latencies, default=0.0), 1)
    return result


@contextmanager
def served(data_dir: Path, concurrency: int = 4, chroma_url: str | None = None, timeout: float = 180, poll_s: float = 0.5):
    """`procure-ai serve` over `data_dir` on a free loopback port: yields (url, process, stderr path)."""
    import tempfile
    import urllib.request

    from evals.bench.servers import BenchError, free_port, stop

    port = free_port()
    root = Path(__file__).resolve().parents[2]  # the repository, so this checkout's code is served
    cmd = [sys.executable, "-m", "assistant.cli.main", "serve", "--data-dir", str(data_dir), "--port", str(port),
           "--concurrency", str(concurrency)] + (["--chroma-url", chroma_url] if chroma_url else [])
    log = Path(tempfile.mkstemp(prefix="procure-ai-serve-", suffix=".log")[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])}
    env.pop("PROCURE_AI_AUTH", None)  # its own server on loopback: no login
    with open(log, "wb") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, env=env, cwd=root)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + timeout
    try:
        while True:
            try:
                urllib.request.urlopen(url + "/", timeout=5)
                break
            except OSError:
                if proc.poll() is not None:
                    raise BenchError(f"procure-ai serve exited: {_last_line(log)}") from None
                if time.time() > deadline:
                    raise BenchError("procure-ai serve did not start in time") from None
                time.sleep(poll_s)
        yield url, proc, log
    finally:
        stop(proc, 20)


def _last_line(path: Path) -> str:
    lines = path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    return lines[-1] if lines else "no output"


def run_bench_load(data_dir: Path | None, url: str | None, questions: list[str], users: int = 50, seconds: float = 30,
                   think: float = 0.0, concurrency: int = 4, chroma_url: str | None = None,
                   auth: tuple[str, str] | None = None) -> dict:
    """Load-test `url` (with `auth` if it has a login), or a server this starts over `data_dir`; adds the
    server's memory and tracebacks."""
    from evals.bench.servers import rss_mb

    if url:
        return run_load(url, questions, users, seconds, think, auth=auth).to_dict()
    with served(data_dir, concurrency, chroma_url) as (base, proc, log):
        result = run_load(base, questions, users, seconds, think)
        result.server = {"concurrency": concurrency, **rss_mb(proc.pid)}
    text = log.read_text(encoding="utf-8", errors="replace")
    result.server["tracebacks_in_log"] = text.count("Traceback")
    log.unlink(missing_ok=True)
    return result.to_dict()


def table(result: dict) -> str:
    rows = [
        ("users / seconds / think (s)", f"{result['users']} / {result['seconds']} / {result['think_s']}"),
        ("answers (refusals)", f"{result['answers']} ({result['refusals']})" if result.get("refusals") else result["answers"]),
        ("errors", ", ".join(f"{k}: {v}" for k, v in result["errors"].items()) or "0"),
        ("throughput (answers/s)", result["answers_per_s"]),
        ("latency ms p50/p95/p99/max", "/".join(str(v) for v in result["latency_ms"].values())),
    ]
    if result.get("server"):
        rows.append(("server", ", ".join(f"{k} {v}" for k, v in result["server"].items())))
    return "\n".join(f"{name:30s} {value}" for name, value in rows)
