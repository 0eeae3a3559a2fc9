"""A `chroma run` server on loopback gives the same results as the embedded store."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import free_port, wait_until_up

from ingest.chunker import Chunker
from index.update import update
from index.search import Searcher
from index.store import StoreError

QUESTIONS = [
    "who signs off on choosing the vendor?",
    "what happens to our data when the contract ends?",
    "how do we avoid being locked in to one supplier?",
    "what is fine-tuning?",
]


def chroma_binary() -> str:
    found = shutil.which("chroma") or str(Path(sys.executable).with_name("chroma"))
    assert Path(found).exists(), "the chroma CLI ships with chromadb; it must be installed"
    return found


@pytest.fixture
def chroma_server(tmp_path):
    port = free_port()
    proc = subprocess.Popen(
        [chroma_binary(), "run", "--path", str(tmp_path / "server-data"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    wait_until_up(f"{url}/api/v2/heartbeat", proc, "chroma server", timeout=60)
    yield url, proc
    proc.terminate()
    proc.wait(timeout=10)


def test_server_and_embedded_give_the_same_results(small_corpus, tmp_path, make_index, embedder, chroma_server):
    url, _ = chroma_server
    chunker = Chunker(count_tokens=embedder.count_tokens)
    embedded = make_index(tmp_path / "embedded")
    served = make_index(tmp_path / "served", chroma_url=url)
    update(embedded, [small_corpus], chunker)
    report = update(served, [small_corpus], chunker)
    assert report.chunks == served.store.count()
    for question in QUESTIONS:
        a = [(p.chunk_id, p.text) for p in Searcher(embedded).search(question, k=5)]
        b = [(p.chunk_id, p.text) for p in Searcher(served).search(question, k=5)]
        assert a == b, question
    assert not (tmp_path / "served" / "chroma").exists()  # vectors went to the server


def test_server_going_away_is_a_clear_error(small_corpus, tmp_path, make_index, embedder, chroma_server):
    url, proc = chroma_server
    served = make_index(tmp_path / "served", chroma_url=url)
    update(served, [small_corpus], Chunker(count_tokens=embedder.count_tokens))
    proc.terminate()
    proc.wait(timeout=10)
    with pytest.raises(StoreError, match=f"Chroma at {url}"):
        Searcher(served).search("a question nobody asked before", k=3)


def test_unreachable_server_is_a_clear_error(tmp_path, make_index):
    index = make_index(tmp_path / "d", chroma_url=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(StoreError, match="cannot open Chroma at http://127.0.0.1:"):
        index.store.count()
