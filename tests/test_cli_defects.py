"""Smaller defects found by trying the command line as a new user would, each fixed and kept fixed."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest
from conftest import ROOT, write_corpus
from test_faults import AS_A_USER, assert_one_line_error, cli

BROKEN = {"broken.pdf": b"%PDF-1.7\n this is not really a pdf \x00\x01\x02", "notes.pdf": b"hello, not a pdf at all",
          "empty.md": ""}


def test_an_ingest_where_every_file_was_skipped_fails_and_pdfium_speaks_in_the_skip_line(tmp_path):
    folder = write_corpus(tmp_path / "scans", BROKEN)
    done = cli("ingest", str(folder), "--data-dir", str(tmp_path / "data"))
    assert done.returncode == 1
    assert done.stderr == f"procure-ai: error: nothing could be read from {folder} (3 skipped)\n"  # no PDFium lines
    skipped = [line for line in done.stdout.splitlines() if line.startswith("  skipped ")]
    assert skipped == [
        f"  skipped {folder / 'broken.pdf'}: corrupt or unreadable PDF (PDFium: data format error)",
        f"  skipped {folder / 'empty.md'}: empty file",
        f"  skipped {folder / 'notes.pdf'}: corrupt or unreadable PDF (PDFium: data format error)",
    ]
    as_json = cli("ingest", str(folder), "--json", "--data-dir", str(tmp_path / "data"))
    assert as_json.returncode == 1 and json.loads(as_json.stdout)["error"] == "nothing could be read"
    write_corpus(folder, {"good.md": "# Good\n\nThis one reads.\n"})  # one readable file is a success
    assert cli("ingest", str(folder), "--data-dir", str(tmp_path / "data")).returncode == 0


def test_unreadable_folders_are_reported_nested_or_given(tmp_path):
    folder = write_corpus(tmp_path / "policies", {"ai-policy.md": "# Our AI policy\n\nAll AI purchases need a DPIA.\n",
                                                  "private/hr.md": "# HR\n\nNot for the index.\n"})
    (folder / "private").chmod(0)
    try:
        done = cli("ingest", str(folder), "--data-dir", str(tmp_path / "data"), prefix=AS_A_USER)
        assert done.returncode == 0, done.stderr
        assert f"  skipped {folder / 'private'}: cannot read folder: permission denied" in done.stdout.splitlines()
        given = cli("ingest", str(folder / "private"), "--data-dir", str(tmp_path / "data"), prefix=AS_A_USER)
        line = assert_one_line_error(given)
        assert line == f"procure-ai: error: cannot read folder {folder / 'private'}: permission denied"
        assert "sources.toml" not in given.stderr
    finally:
        (folder / "private").chmod(0o755)


def test_serve_on_a_busy_port_says_so_before_printing_a_url(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = cli("serve", "--port", str(port), "--data-dir", str(tmp_path / "data"))
    line = assert_one_line_error(done)
    assert line == (f"procure-ai: error: port {port} on 127.0.0.1 is busy (another procure-ai serve, or another "
                    "program): pass --port N to use another")
    assert done.stdout == ""


@pytest.mark.parametrize("how", ["flag", "env"])
def test_an_empty_password_is_refused(tmp_path, how):
    args = ["serve", "--data-dir", str(tmp_path / "data")] + (["--auth", "trainer:"] if how == "flag" else [])
    env = {**os.environ, "PYTHONPATH": str(ROOT), **({"PROCURE_AI_AUTH": "trainer:"} if how == "env" else {})}
    done = subprocess.run([sys.executable, "-m", "assistant.cli", *args], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert assert_one_line_error(done) == "procure-ai: error: --auth takes USER:PASSWORD, both non-empty"


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    base = tmp_path_factory.mktemp("defects")
    assert cli("ingest", str(write_corpus(base / "corpus")), "--data-dir", str(base / "data")).returncode == 0
    return base / "data"


def test_ask_piped_into_head_ends_quietly(data, tmp_path):
    questions = tmp_path / "q.jsonl"
    questions.write_text("\n".join(json.dumps({"question": q}) for q in [
        "Who signs off on the vendor?", "What is a hallucination?", "Who owns the data?", "What is fine-tuning?"] * 3))
    err = tmp_path / "stderr.txt"
    shell = (f"{sys.executable} -m assistant.cli ask --questions {questions} --json --data-dir {data} 2>{err} | head -n 1;"
             " echo ${PIPESTATUS[0]}")
    done = subprocess.run(["bash", "-c", shell], env={**os.environ, "PYTHONPATH": str(ROOT)}, cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    first, status = done.stdout.splitlines()
    assert json.loads(first)["question"] == "Who signs off on the vendor?"
    assert err.read_text() == "" and status == "141"  # as `cat` ends in a pipe: no "Broken pipe" error


@pytest.mark.parametrize("args, message", [
    (["ask", ""], "the question is empty"),
    (["ask", "who signs off?", "--doc", "nope.md"], "no document 'nope.md' in the index"),
    (["status", "--chroma-url", "ftp://x"], "bad Chroma URL"),
])
def test_json_output_prints_errors_as_json(data, args, message):
    done = cli(*args, "--json", "--data-dir", str(data))
    assert done.returncode == 2 and done.stderr == ""
    assert message in json.loads(done.stdout)["error"] and len(done.stdout.splitlines()) == 1
