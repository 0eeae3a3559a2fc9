"""The `procure-ai` command as a user runs it: JSON contract, batches, and one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from conftest import ROOT


def cli(*args, data_dir, stdin: str | None = None, timeout=300):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PROCURE_AI_DATA_DIR": str(data_dir)}
    return subprocess.run(
        [sys.executable, "-m", "assistant.cli", *map(str, args)],
        env=env, capture_output=True, text=True, input=stdin, timeout=timeout, cwd=ROOT,
    )


@pytest.fixture(scope="module")
def indexed(tmp_path_factory):
    from conftest import write_corpus

    base = tmp_path_factory.mktemp("cli")
    corpus = write_corpus(base / "corpus")
    data = base / "data"
    result = cli("ingest", corpus, data_dir=data)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Indexed 5 documents")
    return corpus, data


def test_ask_json_contract(indexed):
    _, data = indexed
    result = cli("ask", "Who signs off on the vendor choice?", "--json", data_dir=data)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert set(answer) >= {"question", "answer", "refused", "citations", "retrieved", "timings_ms"}
    assert answer["question"] == "Who signs off on the vendor choice?"
    assert isinstance(answer["refused"], bool)
    for c in answer["citations"]:
        assert set(c) >= {"n", "doc_id", "title", "section", "url", "page", "text"}
        assert f"[{c['n']}]" in answer["answer"]
    for rank, r in enumerate(answer["retrieved"], start=1):
        assert set(r) >= {"rank", "doc_id", "title", "section", "url", "page", "text", "score"}
        assert r["rank"] == rank
    assert answer["retrieved"][0]["doc_id"] == "guide/who.md"


def test_ask_questions_file_keeps_order_and_flags_bad_lines(indexed, tmp_path):
    _, data = indexed
    lines = [
        {"question": "Who owns the data when the contract ends?", "id": "a"},
        {"question": "How do we involve residents before tendering?"},
        {"not_a_question": 1},
        {"question": "   "},
        {"question": "What is a hallucination?"},
    ]
    path = tmp_path / "q.jsonl"
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\nnot json\n", encoding="utf-8")
    result = cli("ask", "--questions", path, "--json", data_dir=data)
    assert result.returncode == 0, result.stderr
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(out) == 6
    assert out[0]["retrieved"][0]["doc_id"] == "corpus/guide/clauses.md"
    assert out[1]["retrieved"][0]["doc_id"] == "corpus/page.html"
    assert "error" in out[2] and "error" in out[3] and "empty" in out[3]["error"]
    assert out[4]["retrieved"][0]["doc_id"] == "corpus/glossary.csv"
    assert "error" in out[5]


@pytest.mark.parametrize(
    "args, message",
    [
        (("ask", ""), "the question is empty"),
        (("ask", "x" * 5_000), "the question is too long (5,000 characters; the limit is 2,000)"),
        (("ingest", "/no/such/folder"), "no such file or folder"),
        (("ask", "hello", "--chroma-url", "ftp://nowhere"), "bad Chroma URL"),
    ],
)
def test_user_mistakes_get_one_line_errors(indexed, args, message):
    _, data = indexed
    result = cli(*args, data_dir=data)
    assert result.returncode == 2
    assert result.stderr.startswith("procure-ai: error: ")
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_a_one_megabyte_question_is_refused_from_stdin_and_from_a_file(indexed, tmp_path):
    _, data = indexed
    huge = "why " * 250_000
    result = cli("ask", "-", data_dir=data, stdin=huge)
    assert result.returncode == 2 and "the question is too long (999,999 characters" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    path = tmp_path / "q.jsonl"
    path.write_text(json.dumps({"question": huge}) + "\n", encoding="utf-8")
    result = cli("ask", "--questions", path, "--json", data_dir=data)
    assert "too long" in json.loads(result.stdout)["error"]


def test_empty_folder_is_a_one_line_error(tmp_path):
    (tmp_path / "empty").mkdir()
    result = cli("ingest", tmp_path / "empty", data_dir=tmp_path / "data")
    assert result.returncode == 2 and "no documents in" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_ask_before_any_ingest_says_what_to_do(tmp_path):
    result = cli("ask", "anything", data_dir=tmp_path / "fresh")
    assert result.returncode == 2
    assert "procure-ai ingest" in result.stderr and "Traceback" not in result.stderr


def test_status_lists_what_is_indexed(indexed):
    _, data = indexed
    result = cli("status", "--json", data_dir=data)
    info = json.loads(result.stdout)
    assert info["documents"] == 5 and "guide/who.md" in info["document_ids"]


def test_bench_prints_the_figures_as_json(tmp_path):
    from conftest import write_corpus

    corpus = write_corpus(tmp_path / "corpus")
    result = cli("bench", corpus, "--no-textbook", "--limit", 5, "--json", data_dir=tmp_path / "data", timeout=600)
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert figures["ingest"]["documents"] == 5 and figures["ingest"]["unchanged_embedded"] == 0
    assert set(figures["retrieval_ms"]) == {"p50", "p95", "p99"} and figures["answer_ms"]["p50"] > 0
    assert figures["config"]["questions"] == 5
    assert figures["peak_rss_mb"] > 0 and list((tmp_path / "data" / "bench").glob("bench-*.json"))
