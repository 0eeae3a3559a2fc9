"""Faults a user can meet, each with real components: a one-line error, never a traceback, never lost data.

Covered elsewhere and not repeated here: an ingest killed with SIGKILL leaves
the previous index answering (tests/test_ingest.py,
test_killed_ingest_leaves_previous_index_live); a second ingest in the same
process is refused (test_second_ingest_at_once_is_refused). Here two ingests
are two real processes.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from conftest import MIRROR, ROOT, free_port, write_corpus

from evals.bench.load import served
from evals.bench.servers import start_chroma
from ingest.chunker import Chunker
from index.update import update
from index.catalog import load_catalog
from index.search import Searcher

QUESTION = "who signs off on choosing the vendor?"
POLICY = {"ai-policy.md": "# Our AI policy\n\nAll AI purchases need a data protection impact assessment.\n"}


def cli(*args: str, preexec_fn=None, prefix: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([*prefix, sys.executable, "-m", "assistant.cli", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, preexec_fn=preexec_fn, timeout=300)


def assert_one_line_error(done: subprocess.CompletedProcess) -> str:
    """The command failed with exactly one line on stderr, `procure-ai: error: ...`, and no traceback."""
    assert done.returncode != 0, done.stdout
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("procure-ai: error: "), done.stderr[-2000:]
    return lines[0]


def post(url: str, question: str) -> tuple[int, dict]:
    request = urllib.request.Request(url + "/api/ask", json.dumps({"question": question}).encode(),
                                     {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def answers(data_dir: Path, make_index) -> list[tuple[str, str]]:
    return [(p.chunk_id, p.text) for p in Searcher(make_index(data_dir)).search(QUESTION, k=5)]


def snapshot(data_dir: Path) -> dict[str, bytes]:
    """Every file of the index outside Chroma, by path."""
    return {str(p.relative_to(data_dir)): p.read_bytes() for p in sorted(data_dir.rglob("*"))
            if p.is_file() and "chroma" not in p.parts and p.name != "ingest.lock"}


def bigger_corpus(corpus: Path) -> Path:
    """The small corpus plus the mirror's Markdown: an ingest that takes a while and writes megabytes."""
    for path in MIRROR.rglob("*.md"):
        target = corpus / "mirror" / path.relative_to(MIRROR)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(path.read_bytes())
    return corpus


def test_chroma_server_stops_mid_session_and_the_api_recovers_when_it_is_back(small_corpus, tmp_path, make_index, embedder):
    """The chat's API says in one line that Chroma is down (503), then answers again once it restarts."""
    port, folder = free_port(), tmp_path / "chroma-server"
    chroma = start_chroma(folder, port)
    chroma_url = f"http://127.0.0.1:{port}"
    try:
        update(make_index(tmp_path / "data", chroma_url), [small_corpus], Chunker(count_tokens=embedder.count_tokens))
        with served(tmp_path / "data", chroma_url=chroma_url) as (url, _, log):
            status, before = post(url, QUESTION)
            assert status == 200 and before["citations"]
            chroma.terminate()
            chroma.wait(timeout=30)
            status, down = post(url, "what happens to our data when the contract ends?")
            assert status == 503 and set(down) == {"question", "error"}
            assert down["error"].startswith(f"Chroma at {chroma_url} failed to ") and "\n" not in down["error"]
            cli_down = cli("ask", "what is fine-tuning?", "--data-dir", str(tmp_path / "data"), "--chroma-url", chroma_url)
            assert f"Chroma at {chroma_url}" in assert_one_line_error(cli_down)
            chroma = start_chroma(folder, port)  # same port, same folder; our server is not restarted
            status, after = post(url, QUESTION)  # nothing caches answers: this searches Chroma again
            assert status == 200 and after["citations"] == before["citations"]
        assert "Traceback" not in log.read_text(encoding="utf-8", errors="replace")
    finally:
        chroma.terminate()
        chroma.wait(timeout=30)


def _read_only(path: Path) -> None:
    for p in [path, *path.rglob("*")]:
        p.chmod(p.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def _writable(path: Path) -> None:
    for p in [path, *path.rglob("*")]:
        p.chmod(p.stat().st_mode | stat.S_IWUSR)


# root ignores permission bits; without its capabilities (util-linux setpriv) it obeys them like any user
AS_A_USER = ("setpriv", "--inh-caps=-all", "--bounding-set=-all", "--") if os.geteuid() == 0 else ()


def test_read_only_data_dir_refuses_ingest_in_one_line_and_the_index_keeps_answering(small_corpus, tmp_path, make_index):
    data = tmp_path / "data"
    reader = make_index(data)
    update(reader, [small_corpus], Chunker(count_tokens=reader.embedder.count_tokens))
    before, files = answers(data, make_index), snapshot(data)
    searcher = Searcher(reader)  # a running assistant that opened the index before it became read-only
    _read_only(data)
    try:
        probe = subprocess.run([*AS_A_USER, "touch", str(data / "probe")], capture_output=True)
        assert probe.returncode != 0, "the data dir is still writable: the test cannot make it read-only"
        done = cli("ingest", str(write_corpus(tmp_path / "policies", POLICY)), "--data-dir", str(data), prefix=AS_A_USER)
        line = assert_one_line_error(done)
        assert "Permission denied" in line and str(data) in line
        assert [(p.chunk_id, p.text) for p in searcher.search(QUESTION, k=5)] == before
    finally:
        _writable(data)
    assert snapshot(data) == files and not (data / "journal.json").exists()
    assert answers(data, make_index) == before


def test_disk_full_during_ingest_fails_in_one_line_and_loses_nothing(small_corpus, tmp_path, make_index, embedder):
    """A file-size limit (RLIMIT_FSIZE, as a full disk does) makes Chroma's writes fail midway."""
    data = tmp_path / "data"
    index = make_index(data)
    update(index, [small_corpus], Chunker(count_tokens=embedder.count_tokens))
    before, catalog = answers(data, make_index), load_catalog(data)
    limit = max(p.stat().st_size for p in data.rglob("*") if p.is_file()) + 256 * 1024

    def full_disk():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit then fail with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    done = cli("ingest", str(bigger_corpus(small_corpus)), "--data-dir", str(data), preexec_fn=full_disk)
    assert_one_line_error(done)
    assert load_catalog(data).chunk_ids() == catalog.chunk_ids()
    assert answers(data, make_index) == before
    report = update(make_index(data), [small_corpus], Chunker(count_tokens=embedder.count_tokens))  # space again
    after = load_catalog(data)
    assert catalog.chunk_ids() <= after.chunk_ids() and set(catalog.documents) < set(after.documents)
    assert make_index(data).store.count() == len(after.chunk_ids()) == report.chunks
    assert not (data / "journal.json").exists()


def test_two_ingest_processes_one_refused_in_one_line_no_corruption(small_corpus, tmp_path, make_index):
    data = tmp_path / "data"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    first = subprocess.Popen([sys.executable, "-m", "assistant.cli", "ingest", str(bigger_corpus(small_corpus)),
                              "--data-dir", str(data)], env=env, cwd=ROOT, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while not (data / "journal.json").exists():  # the first is writing
        assert first.poll() is None, first.communicate()[1][-2000:]
        assert time.time() < deadline
        time.sleep(0.05)
    second = cli("ingest", str(write_corpus(tmp_path / "policies", POLICY)), "--data-dir", str(data))
    assert first.poll() is None, "the first ingest ended before the second one was refused: the test proves nothing"
    assert "another ingest is running on" in assert_one_line_error(second)
    out, err = first.communicate(timeout=300)
    assert first.returncode == 0, err[-2000:]
    catalog = load_catalog(data)
    assert "policies/ai-policy.md" not in catalog.documents
    assert make_index(data).store.count() == len(catalog.chunk_ids())
    assert answers(data, make_index)[0][1]  # the finished index answers


@pytest.fixture(autouse=True)
def _no_leftover_permissions(tmp_path):
    yield
    _writable(tmp_path)  # let pytest clean up even if a test failed while the data dir was read-only
