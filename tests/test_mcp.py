"""`procure-ai mcp` over stdio, driven by the official MCP Python SDK's client: tools, citations, resources, audit."""

from __future__ import annotations

import logging
import os
import sqlite3
import subprocess
import sys

import pytest
from conftest import ROOT, write_corpus
from mcp_client import call_mcp, with_client


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    base = tmp_path_factory.mktemp("mcp")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PROCURE_AI_DATA_DIR": str(base / "data")}
    subprocess.run([sys.executable, "-m", "assistant.cli", "ingest", str(write_corpus(base / "corpus"))],
                   env=env, check=True, capture_output=True, cwd=ROOT)
    return base / "data"


def audit_rows(data_dir) -> list[tuple[str, str, str]]:
    path = data_dir / "audit.sqlite3"
    if not path.exists():
        return []
    with sqlite3.connect(path) as db:
        return list(db.execute("SELECT channel, question, outcome FROM questions ORDER BY id"))


def test_tools_resources_and_instructions_explain_the_corpus_to_a_newcomer(data_dir, caplog):
    async def work(client):
        tools = {t.name: t for t in (await client.list_tools()).tools}
        resources = (await client.list_resources()).resources
        who = next(r for r in resources if r.uri == "procure-ai://document/guide/who.md")
        text = (await client.read_resource(who.uri)).contents[0].text
        return client.instructions, tools, resources, who, text

    with caplog.at_level(logging.WARNING):
        instructions, tools, resources, who, text = with_client(data_dir, work)
    assert not [r for r in caplog.records if r.name.startswith("mcp")], "the server wrote something else on stdout"
    assert set(tools) == {"search_guidance", "ask"}
    assert list(tools["search_guidance"].input_schema["properties"]) == ["query", "k", "collection", "doc"]
    assert tools["search_guidance"].input_schema["required"] == ["query"]
    assert {"question", "history"} <= set(tools["ask"].input_schema["properties"])
    assert set(tools["ask"].output_schema["required"]) == {"question", "answer", "refused", "citations"}
    for described in (instructions, tools["ask"].description, tools["search_guidance"].description):
        assert "procuring AI" in described or "buying (procuring) AI" in described
        assert "Test Guide" in described  # the collections this index holds, named
    assert "[n]" in tools["ask"].description and "refused" in tools["ask"].description
    assert "keep its [n] markers" in instructions
    assert len(resources) == 5 and who.title == "Who to involve" and who.mime_type == "text/markdown"
    assert "CC BY 4.0" in who.description and "https://example.org/who" in who.description
    assert text.startswith("Source: Who to involve — Test Publisher, https://example.org/who, CC BY 4.0\n\n# Who to involve")
    assert "signs off the vendor selection" in text and "editor's note" not in text


def test_search_and_ask_return_citation_records_and_asks_are_audited(data_dir):
    before = len(audit_rows(data_dir))
    follow_up = {"question": "and the legal officer?",
                 "history": [{"question": "Who signs off on the vendor selection?", "answer": "The procurement officer. [1]"}]}
    search, scoped, answer, followed, refusal, empty, unknown, too_many = call_mcp(data_dir, [
        ("search_guidance", {"query": "who signs off the vendor selection", "k": 2}),
        ("search_guidance", {"query": "data at the end of the contract", "collection": "Test Guide"}),
        ("ask", {"question": "Who signs off on the vendor selection?"}),
        ("ask", follow_up),
        ("ask", {"question": "Write me a haiku about autumn."}),
        ("ask", {"question": "  "}),
        ("search_guidance", {"query": "data", "collection": "Nope"}),
        ("search_guidance", {"query": "data", "k": 500}),
    ])
    passages = search.structured_content["passages"]
    assert len(passages) == 2 and passages[0]["doc_id"] == "guide/who.md" and passages[0]["rank"] == 1
    assert {"title", "section", "page", "url", "publisher", "license", "text", "cite_as"} <= set(passages[0])
    assert passages[0]["cite_as"] == "Who to involve > Key roles include"
    assert search.content[0].text.startswith("[1] Who to involve > Key roles include — https://example.org/who\n")
    assert all(p["collection"] == "Test Guide" for p in scoped.structured_content["passages"])

    result = answer.structured_content
    assert result["refused"] is False and "signs off the vendor selection" in result["answer"]
    cited = result["citations"][0]
    assert {"n", "doc_id", "section", "page", "quote", "license", "publisher", "url", "text"} <= set(cited)
    assert cited["doc_id"] == "guide/who.md" and cited["license"] == "CC BY 4.0" and cited["quote"] in cited["text"]
    assert "[1]" in answer.content[0].text and "Sources:\n- [1] Who to involve" in answer.content[0].text
    assert followed.structured_content["standalone_question"].startswith("Who signs off on the vendor selection?")
    assert "Legal officer" in followed.structured_content["answer"]
    assert refusal.structured_content["refused"] is True and refusal.structured_content["citations"] == []
    assert not refusal.is_error and refusal.content[0].text.startswith("The guidance does not cover this.")
    assert empty.is_error and "the question is empty" in empty.content[0].text
    assert unknown.is_error and "no collection 'Nope'; the collections are: Test Guide" in unknown.content[0].text
    assert too_many.is_error and "k must be between 1 and 20" in too_many.content[0].text
    assert audit_rows(data_dir)[before:] == [  # asks only, each once; searches are not questions answered
        ("mcp", "Who signs off on the vendor selection?", "answered"), ("mcp", "and the legal officer?", "answered"),
        ("mcp", "Write me a haiku about autumn.", "refused"), ("mcp", "  ", "error")]


def test_the_initialize_handshake_and_no_audit_log(data_dir):
    """A client that only knows the classic handshake (as most MCP hosts do today) gets the same tools;
    with --no-audit-log nothing is recorded."""
    before = audit_rows(data_dir)

    async def work(client):
        names = sorted(t.name for t in (await client.list_tools()).tools)
        return names, await client.call_tool("ask", {"question": "Who leads the procurement process?"})

    names, answer = with_client(data_dir, work, "--no-audit-log", mode="legacy")
    assert names == ["ask", "search_guidance"] and "leads the procurement process" in answer.structured_content["answer"]
    assert audit_rows(data_dir) == before
