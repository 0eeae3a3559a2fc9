"""Shared fixtures: the real embedding model, a small corpus written per test, the mirror indexed once."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest

from corpus.settings import Settings, offline_environment

offline_environment()

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("PROCURE_AI_SHARED", ROOT.parent / "shared"))
MIRROR = SHARED / "corpus"
EXTRA = SHARED / "corpus-extra"


def pytest_sessionstart(session):
    """Most tests read the guidance mirror beside the repository: stop in one line if it is not there."""
    if not (MIRROR / "sources.toml").exists():
        pytest.exit(f"the guidance mirror is not at {MIRROR}: clone the repository beside shared/, "
                    "or set PROCURE_AI_SHARED to the folder that holds corpus/ and corpus-extra/", returncode=2)


@pytest.fixture(scope="session")
def embedder():
    from index.embedder import Embedder

    return Embedder()


def wait_until_up(url: str, proc, what: str, timeout: float = 120) -> None:
    """Poll `url` until it answers; fail if `proc` exits or `timeout` passes."""
    import time
    import urllib.request

    deadline = time.time() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            assert proc.poll() is None, f"{what} exited"
            assert time.time() < deadline, f"{what} did not start"
            time.sleep(0.3)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


SMALL_CORPUS = {
    "sources.toml": """
[[document]]
path = "guide/who.md"
title = "Who to involve"
publisher = "Test Publisher"
collection = "Test Guide"
url = "https://example.org/who"
license = "CC BY 4.0"
""",
    "guide/who.md": """---
layout: post
title: "Ignored front matter title"
---

# *Who to involve*

<!-- an editor's note nobody should see -->

Procuring AI may require input across a range of stakeholders. Off-the-shelf technology can require less engagement.

**Key roles include:**

* **Procurement officer,** who leads the procurement process and signs off the vendor selection.
* **Legal officer,** who can help navigate data, liability and intellectual property.

## Sandbox trials {.collapsible}

Ask vendors for a sandbox so your team can test the tool with real data before signing.

![logo]({{site.baseurl}}/assets/logo.png)
""",
    "guide/clauses.md": """# Contract clauses

## Data ownership

The contract should state that the public body owns its data and any outputs, and that the vendor must return or delete data at the end of the contract.

## Exit

Plan an exit strategy: require data portability and documentation so you can switch vendors without lock-in.
""",
    "notes/meeting.txt": "Meeting notes\n\nThe steering group meets monthly to review the pilot's accuracy figures.\n",
    "glossary.csv": 'Source,Term,Definition\n"Test glossary",Hallucination,"When a model produces confident output that is false."\n"Test glossary",Fine-tuning,"Further training of a model on a narrower data set."\n',
    "page.html": "<html><head><title>Public participation page</title><script>alert(1)</script></head>"
    "<body><nav>menu</nav><main><h1>Involving residents</h1><p>Hold a citizens' panel before you write the tender.</p>"
    "<ul><li>Publish the decision record.</li></ul></main></body></html>",
}


def write_corpus(folder: Path, files: dict[str, str | bytes] = SMALL_CORPUS) -> Path:
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return folder


@pytest.fixture
def small_corpus(tmp_path) -> Path:
    return write_corpus(tmp_path / "corpus")


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings.load(environ={}, data_dir=tmp_path / "data")


@pytest.fixture
def make_index(embedder):
    """Build an Index over a data dir (and optional Chroma URL) with the shared real model."""
    from index.index import Index

    def make(data_dir: Path, chroma_url: str | None = None) -> Index:
        return Index(data_dir, embedder, chroma_url=chroma_url)

    return make


@pytest.fixture(scope="session")
def mirror_data_dir(tmp_path_factory, embedder) -> Path:
    """The shared mirror, ingested once per session."""
    from ingest.chunker import Chunker
    from index.update import update
    from index.index import Index

    data_dir = tmp_path_factory.mktemp("mirror-index")
    index = Index(data_dir, embedder)
    update(index, [MIRROR], Chunker(count_tokens=embedder.count_tokens))
    return data_dir


@pytest.fixture(scope="session")
def mirror_index(mirror_data_dir, embedder):
    from index.index import Index

    return Index(mirror_data_dir, embedder)


def copy_tree(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


@contextmanager
def serving_deck(base: Path, env: dict, deck: Path):
    """`procure-ai serve --deck DECK` on a free loopback port, logging to base/serve.log: its URL, once it answers."""
    port = free_port()
    with open(base / "serve.log", "w", encoding="utf-8") as out:
        proc = subprocess.Popen([sys.executable, "-m", "assistant.cli", "serve", "--port", str(port), "--deck", str(deck)],
                                env=env, stdout=out, stderr=subprocess.STDOUT, text=True)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_up(url + "/", proc, "the chat")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium, driven by Playwright (which cannot download browsers here)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                              args=["--no-sandbox", "--disable-dev-shm-usage", "--disable-background-networking"])
        yield b
        b.close()
