"""The index never disagrees with its store: a replaced Chroma server is noticed, refilled by ingest, and in
between every face says so in one line; several servers share one data dir and one Chroma server."""

from __future__ import annotations

import json
import logging
import subprocess
import threading
import time

import pytest
from conftest import free_port, write_corpus
from test_faults import POLICY, QUESTION, assert_one_line_error, bigger_corpus, cli, post

from evals.bench.load import served
from evals.bench.servers import start_chroma, stop
from ingest.chunker import Chunker
from index.catalog import EMBEDDED, fingerprint, load_catalog
from index.search import Searcher
from index.store import StoreMismatch
from index.update import update


def test_the_catalog_records_its_store_collection_and_fingerprint(small_corpus, tmp_path, make_index, embedder):
    index = make_index(tmp_path / "data")
    update(index, [small_corpus], Chunker(count_tokens=embedder.count_tokens))
    catalog = load_catalog(tmp_path / "data")
    assert catalog.store == EMBEDDED and catalog.collection == index.collection
    assert catalog.fingerprint == fingerprint(index.store.ids()) and catalog.fingerprint["count"] == index.store.count()
    assert index.store_mismatch(catalog, everything=True) == ""


def test_a_catalog_written_before_the_store_was_recorded_still_answers(small_corpus, tmp_path, make_index, embedder):
    data = tmp_path / "data"
    update(make_index(data), [small_corpus], Chunker(count_tokens=embedder.count_tokens))
    old = json.loads((data / "catalog.json").read_text())
    del old["store"], old["fingerprint"]  # the format-1 catalog as the previous version wrote it
    (data / "catalog.json").write_text(json.dumps(old))
    assert Searcher(make_index(data)).search(QUESTION, k=3)[0].doc_id == "guide/who.md"
    report = update(make_index(data), [small_corpus], Chunker(count_tokens=embedder.count_tokens))
    assert report.embedded_chunks == 0 and not report.refilled


def test_a_new_empty_chroma_server_on_the_same_url_is_said_in_one_line_and_ingest_fills_it(small_corpus, tmp_path):
    """The issue's run: ingest into `chroma run`, replace it with an empty one on the same port, ingest, ask."""
    port, data = free_port(), tmp_path / "data"
    url = f"http://127.0.0.1:{port}"
    chroma = start_chroma(tmp_path / "volume-1", port)
    try:
        first = cli("ingest", str(small_corpus), "--data-dir", str(data), "--chroma-url", url)
        assert first.returncode == 0, first.stderr
        before = json.loads(cli("ask", QUESTION, "--json", "--data-dir", str(data), "--chroma-url", url).stdout)
        stop(chroma, 30)
        chroma = start_chroma(tmp_path / "volume-2", port)  # a lost volume: the same URL, nothing in it

        line = assert_one_line_error(cli("ask", QUESTION, "--data-dir", str(data), "--chroma-url", url))
        assert f"at {url} does not hold this index (0 passages" in line and line.endswith("run procure-ai ingest")
        as_json = cli("ask", QUESTION, "--json", "--data-dir", str(data), "--chroma-url", url)
        assert as_json.returncode == 2 and not as_json.stderr
        assert "does not hold this index" in json.loads(as_json.stdout)["error"]
        status = json.loads(cli("status", "--json", "--data-dir", str(data), "--chroma-url", url).stdout)
        assert status["store"].startswith("does not hold this index")
        serve = cli("serve", "--data-dir", str(data), "--chroma-url", url, "--port", str(free_port()))
        assert "does not hold this index" in assert_one_line_error(serve) and "http://" not in serve.stdout

        again = cli("ingest", str(small_corpus), "--data-dir", str(data), "--chroma-url", url)
        assert again.returncode == 0, again.stderr
        assert again.stdout.startswith(f"Filling the store again: the Chroma collection ")
        assert f"{len(load_catalog(data).chunk_ids())} passages embedded" in again.stdout
        after = json.loads(cli("ask", QUESTION, "--json", "--data-dir", str(data), "--chroma-url", url).stdout)
        assert after["answer"] == before["answer"] and after["citations"] == before["citations"]
    finally:
        stop(chroma, 30)


def test_refilling_reads_every_folder_the_index_holds_and_keeps_their_collections(small_corpus, tmp_path, make_index,
                                                                                  embedder):
    port, data = free_port(), tmp_path / "data"
    url = f"http://127.0.0.1:{port}"
    policies = write_corpus(tmp_path / "policies", POLICY)
    chunker = Chunker(count_tokens=embedder.count_tokens)
    chroma = start_chroma(tmp_path / "volume-1", port)
    try:
        update(make_index(data, url), [small_corpus], chunker)
        update(make_index(data, url), [policies], chunker, collection="our policies")
        catalog = load_catalog(data)
        stop(chroma, 30)
        chroma = start_chroma(tmp_path / "volume-2", port)
        report = update(make_index(data, url), [small_corpus], chunker)  # only one of the two folders named
        assert report.refilled and report.embedded_chunks == len(catalog.chunk_ids())
        after = load_catalog(data)
        assert after.chunk_ids() == catalog.chunk_ids() and after.documents["policies/ai-policy.md"].collection == "our policies"
        index = make_index(data, url)
        assert index.store.count() == len(after.chunk_ids()) and not index.store_mismatch(after, everything=True)
    finally:
        stop(chroma, 30)


def test_a_passage_missing_from_the_store_at_question_time_is_skipped_and_logged(small_corpus, tmp_path, make_index,
                                                                              embedder, caplog):
    index = make_index(tmp_path / "data")
    update(index, [small_corpus], Chunker(count_tokens=embedder.count_tokens))
    searcher = Searcher(index)
    best = searcher.search(QUESTION, k=3)[0]
    index.store.delete([best.chunk_id])  # gone behind the catalog's back
    with caplog.at_level(logging.WARNING, logger="procure_ai.search"):
        after = searcher.search(QUESTION, k=3)
    assert after and best.chunk_id not in [p.chunk_id for p in after]
    assert f"passage {best.chunk_id} of guide/who.md is in the catalog but not in the Chroma collection" in caplog.text


def test_a_store_emptied_under_a_running_reader_is_one_error_not_a_crash(small_corpus, tmp_path, make_index, embedder):
    index = make_index(tmp_path / "data")
    update(index, [small_corpus], Chunker(count_tokens=embedder.count_tokens))
    searcher = Searcher(index)
    assert searcher.search(QUESTION, k=3)
    index.store.delete(sorted(index.store.ids()))
    with pytest.raises(StoreMismatch, match="does not hold this index .*: run procure-ai ingest"):
        searcher.search("what happens to our data at the end of the contract?", k=3)


def test_serve_says_the_store_was_replaced_then_answers_after_another_process_ingests(small_corpus, tmp_path):
    """Checked at start (above) and after a reload: a running server meets a replaced store with a 503 line."""
    port, data = free_port(), tmp_path / "data"
    url = f"http://127.0.0.1:{port}"
    chroma = start_chroma(tmp_path / "volume-1", port)
    try:
        assert cli("ingest", str(small_corpus), "--data-dir", str(data), "--chroma-url", url).returncode == 0
        with served(data, chroma_url=url) as (base, _, log):
            status, before = post(base, QUESTION)
            assert status == 200 and before["citations"]
            stop(chroma, 30)
            chroma = start_chroma(tmp_path / "volume-2", port)
            status, body = post(base, "what happens to our data when the contract ends?")
            assert status == 503 and "does not hold this index" in body["error"] and "\n" not in body["error"]
            assert cli("ingest", str(small_corpus), "--data-dir", str(data), "--chroma-url", url).returncode == 0
            status, after = post(base, QUESTION)  # the server reloads the new catalog and checks the store again
            assert status == 200 and after["citations"] == before["citations"]
        assert "Traceback" not in log.read_text(encoding="utf-8", errors="replace")
    finally:
        stop(chroma, 30)


def test_two_servers_answer_while_a_third_process_ingests_nothing_lost(small_corpus, tmp_path):
    """How this grows past one machine: one data dir and one `chroma run` server shared by several `serve`s."""
    port, data = free_port(), tmp_path / "data"
    url = f"http://127.0.0.1:{port}"
    chroma = start_chroma(tmp_path / "volume", port)
    try:
        assert cli("ingest", str(small_corpus), "--data-dir", str(data), "--chroma-url", url).returncode == 0
        more = bigger_corpus(write_corpus(tmp_path / "more", POLICY))
        with served(data, chroma_url=url) as (one, _, log_one), served(data, chroma_url=url) as (two, _, log_two):
            results: list[tuple[str, int, dict]] = []
            stop_asking = threading.Event()

            def ask(base: str) -> None:
                while not stop_asking.is_set():
                    status, body = post(base, QUESTION)
                    results.append((base, status, body))

            askers = [threading.Thread(target=ask, args=(base,)) for base in (one, two)]
            for thread in askers:
                thread.start()
            ingest = subprocess.Popen([*cli_command(), "ingest", str(more), "--data-dir", str(data), "--chroma-url", url],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cli_env())
            out, err = ingest.communicate(timeout=600)
            time.sleep(1)  # a few answers after the commit
            stop_asking.set()
            for thread in askers:
                thread.join(timeout=180)
            assert ingest.returncode == 0, err[-2000:]
            served_by = {base for base, _, _ in results}
            assert served_by == {one, two} and len(results) >= 10
            assert [(base, status, body.get("error")) for base, status, body in results if status != 200] == []
            assert all(body["citations"] and body["citations"][0]["doc_id"] == "guide/who.md" for _, _, body in results)
            for base in (one, two):  # both see the new documents, from the store they share
                status, body = post(base, "What do all AI purchases need according to our AI policy?")
                assert status == 200 and body["retrieved"][0]["doc_id"] == "more/ai-policy.md"
        for log in (log_one, log_two):
            assert "Traceback" not in log.read_text(encoding="utf-8", errors="replace")
        catalog = load_catalog(data)
        assert len(catalog.documents) == 5 + 1 + len(list((more / "mirror").rglob("*.md")))
        from index.store import ChromaStore

        assert ChromaStore(catalog.collection, url=url).ids() == catalog.chunk_ids()  # nothing lost, nothing stale
    finally:
        stop(chroma, 30)


def cli_command() -> list[str]:
    import sys

    return [sys.executable, "-m", "assistant.cli"]


def cli_env() -> dict:
    import os

    from conftest import ROOT

    return {**os.environ, "PYTHONPATH": str(ROOT)}
