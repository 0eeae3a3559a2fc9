"""Ingest is incremental, idempotent, atomic, and skips bad files without losing good ones."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import MIRROR, ROOT, write_corpus

from ingest.chunker import Chunker
from ingest.discover import InputError
from index.update import update
from index.catalog import load_catalog
from index.index import IndexBusy
from index.search import Searcher


def run(paths, index, embedder):
    return update(index, [Path(p) for p in paths], Chunker(count_tokens=embedder.count_tokens))


def test_ingest_small_corpus_every_format(small_corpus, tmp_path, make_index, embedder):
    index = make_index(tmp_path / "data")
    report = run([small_corpus], index, embedder)
    catalog = load_catalog(tmp_path / "data")
    assert report.skipped == {}
    assert set(catalog.documents) == {
        "guide/who.md", "corpus/guide/clauses.md", "corpus/notes/meeting.txt", "corpus/glossary.csv", "corpus/page.html",
    }
    who = catalog.documents["guide/who.md"]
    assert (who.title, who.provenance.publisher, who.provenance.url, who.provenance.license) == ("Who to involve", "Test Publisher", "https://example.org/who", "CC BY 4.0")
    assert catalog.documents["corpus/page.html"].title == "Public participation page"
    assert index.store.count() == report.chunks == len(catalog.chunk_ids())
    hits = Searcher(index).search("who signs off on choosing the vendor?", k=3)
    assert hits[0].doc_id == "guide/who.md" and hits[0].section == "Who to involve > Key roles include"
    assert "Procurement officer" in hits[0].text and hits[0].provenance.url == "https://example.org/who"
    # a script in the HTML is not text a reader sees
    assert all("alert(1)" not in p.text for p in Searcher(index).search("alert", k=10))


def test_reingest_unchanged_embeds_nothing_and_keeps_ids(small_corpus, tmp_path, make_index, embedder):
    index = make_index(tmp_path / "data")
    first = run([small_corpus], index, embedder)
    ids = load_catalog(tmp_path / "data").chunk_ids()
    second = run([small_corpus], index, embedder)
    assert first.embedded_chunks == first.chunks > 0
    assert second.embedded_chunks == 0 and not second.changed
    assert load_catalog(tmp_path / "data").chunk_ids() == ids
    assert index.store.count() == len(ids)


def test_changed_and_deleted_documents(small_corpus, tmp_path, make_index, embedder):
    index = make_index(tmp_path / "data")
    run([small_corpus], index, embedder)
    clauses = small_corpus / "guide/clauses.md"
    clauses.write_text(clauses.read_text().replace("exit strategy", "orderly exit plan"), encoding="utf-8")
    (small_corpus / "notes/meeting.txt").unlink()
    report = run([small_corpus], index, embedder)
    catalog = load_catalog(tmp_path / "data")
    assert report.changed_documents == ["corpus/guide/clauses.md"]
    assert report.removed_documents == ["corpus/notes/meeting.txt"]
    assert report.embedded_chunks == 1  # only the edited section
    assert "corpus/notes/meeting.txt" not in catalog.documents
    assert index.store.count() == len(catalog.chunk_ids())  # no duplicates, nothing stale
    texts = [p.text for p in Searcher(index).search("plan for leaving a vendor", k=10)]
    assert any("orderly exit plan" in t for t in texts) and not any("exit strategy" in t for t in texts)
    assert not Searcher(index).search("steering group monthly accuracy", k=10, ) or all(
        p.doc_id != "corpus/notes/meeting.txt" for p in Searcher(index).search("steering group monthly accuracy", k=10)
    )


def test_other_folders_are_kept_when_one_is_reingested(small_corpus, tmp_path, make_index, embedder):
    index = make_index(tmp_path / "data")
    run([small_corpus], index, embedder)
    policies = write_corpus(tmp_path / "policies", {"ai-policy.md": "# Our AI policy\n\nAll AI purchases need a data protection impact assessment.\n"})
    run([policies], index, embedder)
    docs = load_catalog(tmp_path / "data").documents
    assert "policies/ai-policy.md" in docs and "guide/who.md" in docs


def test_bad_files_are_reported_and_skipped(small_corpus, tmp_path, make_index, embedder):
    write_corpus(small_corpus, {
        "broken.pdf": b"%PDF-1.7\n this is not really a pdf \x00\x01\x02",
        "binary.txt": bytes(range(256)) * 4,
        "latin1.md": "# Caf\xe9 policy\n\nNa\xefve text.\n".encode("latin-1"),
        "empty.md": "",
        "image.png": b"\x89PNG\r\n\x1a\n",
    })
    index = make_index(tmp_path / "data")
    report = run([small_corpus], index, embedder)
    skipped = {Path(k).name: v for k, v in report.skipped.items()}
    assert "corrupt or unreadable PDF" in skipped["broken.pdf"]
    assert skipped["binary.txt"] == "binary file, not text"
    assert skipped["latin1.md"].startswith("not UTF-8 text")
    assert skipped["empty.md"] == "empty file"
    assert skipped["image.png"] == "unsupported file type .png"
    assert all("\n" not in reason for reason in skipped.values())
    assert report.documents == 5  # the good files all went in


def test_a_file_that_turns_bad_keeps_its_last_good_version(small_corpus, tmp_path, make_index, embedder):
    index = make_index(tmp_path / "data")
    run([small_corpus], index, embedder)
    (small_corpus / "guide/clauses.md").write_bytes(b"\xff\xfe bad bytes \x00")
    report = run([small_corpus], index, embedder)
    assert "corpus/guide/clauses.md" in load_catalog(tmp_path / "data").documents
    assert any("clauses.md" in k for k in report.skipped)
    assert Searcher(index).search("who owns the data at the end of the contract", k=1)[0].doc_id == "corpus/guide/clauses.md"


def test_missing_and_empty_paths_are_clear_errors(tmp_path, make_index, embedder):
    index = make_index(tmp_path / "data")
    with pytest.raises(InputError, match="no such file or folder"):
        run([tmp_path / "nope"], index, embedder)
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no documents in"):
        run([tmp_path / "empty"], index, embedder)


def test_second_ingest_at_once_is_refused(small_corpus, tmp_path, make_index, embedder):
    index = make_index(tmp_path / "data")
    with index.writing():
        with pytest.raises(IndexBusy, match="another ingest is running"):
            run([small_corpus], make_index(tmp_path / "data"), embedder)


def test_killed_ingest_leaves_previous_index_live(small_corpus, tmp_path, make_index, embedder):
    """SIGKILL an ingest midway: the old index answers as before; the next ingest completes."""
    data = tmp_path / "data"
    index = make_index(data)
    run([small_corpus], index, embedder)
    question = "who signs off on choosing the vendor?"
    before = [(p.chunk_id, p.text) for p in Searcher(index).search(question, k=5)]
    catalog_before = load_catalog(data)
    # Make the next ingest long: the whole mirror's Markdown joins the folder.
    for path in MIRROR.rglob("*.md"):
        target = small_corpus / "mirror" / path.relative_to(MIRROR)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(path.read_bytes())
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "assistant.cli", "ingest", str(small_corpus), "--data-dir", str(data)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT,
    )
    deadline = time.time() + 120
    while not (data / "journal.json").exists():
        assert proc.poll() is None, "ingest finished before it could be killed"
        assert time.time() < deadline
        time.sleep(0.02)
    time.sleep(0.5)  # let it write some vectors
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert (data / "journal.json").exists()
    reader = make_index(data)
    assert load_catalog(data).chunk_ids() == catalog_before.chunk_ids()
    assert [(p.chunk_id, p.text) for p in Searcher(reader).search(question, k=5)] == before
    report = run([small_corpus], reader, embedder)
    assert not (data / "journal.json").exists()
    assert report.documents == len(catalog_before.documents) + len(list(MIRROR.rglob("*.md")))
    assert reader.store.count() == len(load_catalog(data).chunk_ids())


def test_a_running_reader_sees_what_another_process_ingests(small_corpus, tmp_path, make_index, embedder):
    """A server keeps its Index open; an ingest run beside it (another process) must show up in its answers."""
    data = tmp_path / "data"
    reader = make_index(data)
    run([small_corpus], reader, embedder)
    assert Searcher(reader).search("wheelchair users on the tender portal", k=1)[0].doc_id != "notes/portal.md"
    notes = write_corpus(tmp_path / "notes", {"portal.md": "# Tender portal\n\nTest the tender portal with wheelchair users and screen reader users before launch.\n"})
    subprocess.run(
        [sys.executable, "-m", "assistant.cli", "ingest", str(notes), "--data-dir", str(data)],
        env={**os.environ, "PYTHONPATH": str(ROOT)}, cwd=ROOT, check=True, capture_output=True,
    )
    best = Searcher(reader).search("wheelchair users on the tender portal", k=1)[0]
    assert best.doc_id == "notes/portal.md" and best.similarity is not None and best.similarity > 0.5
