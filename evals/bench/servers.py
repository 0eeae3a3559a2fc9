"""Processes the benchmarks start and watch: a `chroma run` server on loopback, and memory readings."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path


class BenchError(ChildProcessError):
    """A process the benchmark started (a server, a measuring child) failed; the message says which."""


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
