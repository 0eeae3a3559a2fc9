"""`procure-ai corpus sync` downloads from the published sources: tested against a real HTTP server on loopback."""

from __future__ import annotations

import functools
import hashlib
import http.server
import shutil
import threading
from pathlib import Path

import pytest
from conftest import EXTRA, MIRROR

from corpus.manifest import MANIFEST_PATH, load_manifest
from corpus.sync import sync


WELSH = "connected-by-data/toolkit-worker-voice-procurement-wales-cy.pdf"  # the mirror keeps it in corpus-extra/


def published(path: str):
    """Where the shared folder keeps a file the project's manifest lists."""
    return EXTRA / Path(path).name if path == WELSH else MIRROR / path


@pytest.fixture
def http_mirror(tmp_path):
    """The publishers' files on a loopback server: the mirror, and the Welsh edition where the manifest puts it."""
    site = tmp_path / "site"
    shutil.copytree(MIRROR, site)
    shutil.copyfile(published(WELSH), site / WELSH)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    handler.log_message = lambda *a, **k: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def local_manifest(tmp_path, base_url: str, tamper: str | None = None):
    """The project's manifest with each download pointed at the loopback server."""
    text = MANIFEST_PATH.read_text(encoding="utf-8")
    for source in load_manifest().values():
        text = text.replace(f'download = "{source.download}"', f'download = "{base_url}/{source.path}"', 1)
    if tamper:
        source = load_manifest()[tamper]
        text = text.replace(source.sha256, "0" * 64)
    path = tmp_path / "sources.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_project_manifest_describes_every_mirror_file():
    manifest = load_manifest()
    mirror = load_manifest(MIRROR / "sources.toml")
    assert set(manifest) == set(mirror) | {WELSH}
    for path, source in manifest.items():
        assert source.id == path and source.title and source.provenance.url and source.provenance.license
        assert source.download.startswith("https://raw.githubusercontent.com/")
        assert source.sha256 == hashlib.sha256(published(path).read_bytes()).hexdigest()


def test_sync_downloads_every_document_and_is_idempotent(tmp_path, http_mirror):
    manifest = local_manifest(tmp_path, http_mirror)
    dest = tmp_path / "corpus"
    report = sync(dest, manifest=manifest)
    assert report.failed == {} and len(report.fetched) == len(load_manifest())
    for path in report.fetched:
        assert (dest / path).read_bytes() == published(path).read_bytes()
    assert (dest / "sources.toml").exists()
    again = sync(dest, manifest=manifest)
    assert again.fetched == [] and len(again.unchanged) == len(load_manifest())


def test_sync_refuses_a_file_whose_checksum_changed(tmp_path, http_mirror):
    manifest = local_manifest(tmp_path, http_mirror, tamper="p4ai/principles-v1.md")
    report = sync(tmp_path / "corpus", manifest=manifest)
    assert "checksum" in report.failed["p4ai/principles-v1.md"]
    assert not (tmp_path / "corpus/p4ai/principles-v1.md").exists()
    assert len(report.fetched) == len(load_manifest()) - 1


def test_sync_reports_unreachable_sources(tmp_path):
    manifest = local_manifest(tmp_path, "http://127.0.0.1:9")  # discard port: nothing listens
    report = sync(tmp_path / "corpus", manifest=manifest, timeout=2)
    assert len(report.failed) == len(load_manifest()) and not report.fetched
