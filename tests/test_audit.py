"""The audit log with a real assistant: what the chat's streaming call records, dates, exports, and its faults."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest
from conftest import ROOT

from assistant.audit import FILE, Audited, AuditLog, export, parse_date
from assistant.factory import build_assistant
from assistant.service import QuestionError
from assistant.streaming import stream_answer
from corpus.records import Scope, Turn
from ingest.chunker import Chunker
from index.update import update


@pytest.fixture(scope="module")
def assistant(tmp_path_factory, embedder):
    from conftest import write_corpus
    from corpus.settings import Settings
    from index.index import Index

    base = tmp_path_factory.mktemp("audit")
    settings = Settings.load(environ={}, data_dir=base / "data")
    index = Index(settings.data_dir, embedder)
    update(index, [write_corpus(base / "corpus")], Chunker(count_tokens=embedder.count_tokens))
    return build_assistant(settings, index)


def test_the_chats_streamed_answer_is_recorded_once_with_its_conversation(assistant, tmp_path):
    log = AuditLog(tmp_path)
    audited = Audited(assistant, log, "web")
    history = (Turn("Who signs off on the vendor selection?", "The procurement officer. [1]"),)
    steps = list(stream_answer(audited, "and the legal officer?", history, Scope.of("Test Guide"), 0.0, 0.0))
    answer = steps[-1].answer
    [row] = log.rows()
    assert (row["channel"], row["question"], row["outcome"]) == ("web", "and the legal officer?", "answered")
    assert row["history"] == [{"question": "Who signs off on the vendor selection?", "answer": "The procurement officer. [1]"}]
    assert row["scope"] == {"doc_ids": [], "collections": ["Test Guide"]}
    assert row["answer"]["answer"] == answer.answer and row["answer"]["citations"] == [c.to_dict() for c in answer.citations]
    assert row["answer"]["retrieved"] and all("text" not in p for p in row["answer"]["retrieved"])  # ids, not copies
    assert set(row["answer"]["timings_ms"]) >= {"retrieve", "compose", "total"} and row["elapsed_ms"] > 0


def test_errors_and_refusals_are_recorded_and_the_error_still_reaches_the_caller(assistant, tmp_path):
    log = AuditLog(tmp_path)
    audited = Audited(assistant, log, "openai")
    with pytest.raises(QuestionError):
        audited.ask("")
    refused = audited.ask("Please write a poem about spring.")
    assert refused.refused
    rows = log.rows()
    assert [(r["outcome"], r["question"]) for r in rows] == [("error", ""), ("refused", "Please write a poem about spring.")]
    assert rows[0]["error"].startswith("the question is empty") and rows[1]["answer"]["citations"] == []
    assert audited.catalog() is not None and audited.answers is assistant.answers  # the rest is the assistant's own


def test_a_log_that_cannot_be_written_costs_a_warning_not_the_answer(assistant, tmp_path, capfd):
    log = AuditLog(tmp_path)
    (tmp_path / FILE).unlink()
    (tmp_path / FILE).mkdir()  # something that is not a database where the log was
    answer = Audited(assistant, log, "web").ask("Who signs off on the vendor selection?")
    assert answer.citations
    assert "warning: the audit log" in capfd.readouterr().err
    with pytest.raises(OSError, match="cannot write the audit log .* \\(or pass --no-audit-log\\)"):
        AuditLog(tmp_path)


def test_dates_select_rows_and_both_formats_hold_every_question(assistant, tmp_path):
    log = AuditLog(tmp_path)
    audited = Audited(assistant, log, "mcp")
    for question in ("Who signs off on the vendor selection?", "What should the contract say about our data?"):
        audited.ask(question)
    now = datetime.now(timezone.utc)
    assert len(log.rows(since=now - timedelta(minutes=5))) == 2
    assert log.rows(since=now + timedelta(minutes=5)) == [] and log.rows(until=now - timedelta(minutes=5)) == []
    lines = list(export(log.rows(), "jsonl"))
    assert [json.loads(line)["question"] for line in lines] == ["Who signs off on the vendor selection?",
                                                               "What should the contract say about our data?"]
    table = list(csv.DictReader(io.StringIO("".join(export(log.rows(), "csv")))))
    assert [t["question"] for t in table] == [json.loads(line)["question"] for line in lines]
    assert "\n" in table[0]["answer"] and table[0]["citations"].startswith("[1] guide/who.md › Who to involve")
    assert "".join(export([], "csv")).startswith("id,created,channel,question,outcome,answer,citations")
    assert parse_date("2026-12-01") == datetime(2026, 12, 1, tzinfo=timezone.utc)
    assert parse_date("2026-12-01T10:30+01:00").astimezone(timezone.utc).hour == 9
    with pytest.raises(ValueError, match="not a date: 'last week'"):
        parse_date("last week")


def cli(*args, data_dir):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PROCURE_AI_DATA_DIR": str(data_dir)}
    return subprocess.run([sys.executable, "-m", "assistant.cli", *args], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=60)


def test_export_command_errors_are_one_line(tmp_path):
    missing = cli("audit", "export", data_dir=tmp_path / "empty")
    assert missing.returncode == 2 and missing.stderr.strip().count("\n") == 0
    assert "procure-ai: error: no audit log in" in missing.stderr
    AuditLog(tmp_path)
    bad = cli("audit", "export", "--since", "yesterday", data_dir=tmp_path)
    assert bad.returncode == 2 and bad.stderr.strip() == "procure-ai: error: not a date: 'yesterday' " \
                                                         "(use YYYY-MM-DD or YYYY-MM-DDTHH:MM)"
    out = tmp_path / "out.csv"
    done = cli("audit", "export", "--format", "csv", "--out", str(out), data_dir=tmp_path)
    assert done.returncode == 0 and out.read_text().startswith("id,created,channel,question")
    assert "0 questions exported to" in done.stderr
