"""The chat in a real browser (Debian's Chromium driven by Playwright), and the JSON API beside it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from conftest import ROOT, free_port, wait_until_up, write_corpus

ARTIFACTS = ROOT / "artifacts"
XSS = '<img src=x onerror="window.__xss=1">'


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("ui-data")


@pytest.fixture(scope="module")
def server(tmp_path_factory, data_dir):
    base = tmp_path_factory.mktemp("ui")
    corpus = write_corpus(base / "corpus")
    write_corpus(corpus, {"hostile.txt": f"Hostile vendor note\n\nA vendor sent this text about data portability: {XSS} <script>window.__xss=2</script> please review it.\n"})
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PROCURE_AI_DATA_DIR": str(data_dir)}
    subprocess.run([sys.executable, "-m", "assistant.cli", "ingest", str(corpus)], env=env, check=True, capture_output=True)
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "assistant.cli", "serve", "--port", str(port)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    wait_until_up(url + "/", proc, "the chat")
    yield url
    proc.terminate()
    proc.wait(timeout=20)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                              args=["--no-sandbox", "--disable-dev-shm-usage", "--disable-background-networking"])
        yield b
        b.close()


def post(url: str, body) -> tuple[int, dict]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(url + "/api/ask", data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def ask(page, question: str):
    box = page.get_by_label("Your question")
    box.fill(question)
    box.press("Enter")


def test_ask_and_open_a_citation(server, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    page.goto(server, wait_until="load")
    ask(page, "Who signs off on choosing the vendor?")
    card = page.locator(".citation-card").first
    card.wait_for(timeout=60_000)
    assert "[1] Who to involve" in card.locator("h3").inner_text()
    assert card.locator("mark").count() >= 1  # the quoted sentence is highlighted
    link = card.get_by_role("link", name="Open the published source")
    assert link.get_attribute("href") == "https://example.org/who"
    bubble = page.locator("[data-testid='bot']").last
    assert "[1]" in bubble.inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "chat-answer.png"), full_page=True)
    # a follow-up keeps the conversation; a new conversation clears it
    ask(page, "and what about their legal colleague?")
    page.wait_for_function("document.querySelectorAll(\"[data-testid='bot']\").length >= 2", timeout=60_000)
    page.get_by_role("button", name="New conversation").click()
    page.wait_for_function("document.querySelectorAll(\"[data-testid='bot']\").length == 0", timeout=10_000)
    page.close()


def test_html_in_questions_and_documents_is_shown_as_text(server, browser):
    page = browser.new_page()
    page.goto(server, wait_until="load")
    ask(page, f"What does the vendor text say about data portability? {XSS}")
    page.locator(".citation-card").first.wait_for(timeout=60_000)
    time.sleep(0.5)
    assert page.evaluate("window.__xss === undefined")
    assert page.locator("img[src='x']").count() == 0
    assert 'onerror="window.__xss=1"' in page.locator("#sources").inner_text()  # the document's HTML, shown as text
    assert "onerror" in page.locator("[data-testid='user']").last.inner_text()  # and the question's
    page.close()


def test_an_empty_or_long_question_gets_a_clear_message(server, browser):
    page = browser.new_page()
    page.goto(server, wait_until="load")
    ask(page, "   ")
    time.sleep(1)
    assert page.locator("[data-testid='bot']").count() <= 1
    status, body = post(server, {"question": "x" * 2001})
    assert status == 400 and "too long" in body["error"]
    page.close()


def test_api_ask_has_the_cli_contract(server):
    status, body = post(server, {"question": "Who owns the data when the contract ends?"})
    assert status == 200
    assert {"question", "answer", "refused", "citations", "retrieved", "timings_ms", "sentences"} <= set(body)
    assert body["citations"] and body["citations"][0]["n"] == 1
    assert post(server, b"not json")[0] == 400
    assert post(server, {"question": ""})[1]["error"].startswith("the question is empty")


def test_server_binds_loopback_only(server):
    assert server.startswith("http://127.0.0.1:")


def test_thumbs_down_with_a_comment_is_stored_and_exports_as_an_eval_case(server, browser, data_dir):
    from assistant.feedback import FeedbackStore

    page = browser.new_page()
    page.goto(server, wait_until="load")
    ask(page, "What happens to our data at the end of the contract?")
    page.locator(".citation-card").first.wait_for(timeout=60_000)
    page.get_by_label("Comment on an answer").fill("should mention deletion deadlines")
    page.get_by_role("button", name="Dislike").last.click()
    deadline = time.time() + 20
    while not FeedbackStore(data_dir).rows("down") and time.time() < deadline:
        time.sleep(0.3)
    row = FeedbackStore(data_dir).rows("down")[-1]
    assert row["question"] == "What happens to our data at the end of the contract?"
    assert row["comment"] == "should mention deletion deadlines" and row["answer"]["citations"]
    out = subprocess.run([sys.executable, "-m", "assistant.cli", "feedback", "export", "--data-dir", str(data_dir)],
                         env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, check=True)
    case = json.loads(out.stdout.splitlines()[-1])
    assert case["question"] == row["question"] and case["answerable"] is True
    assert {"id", "evidence", "evidence_docs", "key_points", "reference_answer"} <= set(case)
    assert case["feedback"]["comment"] == "should mention deletion deadlines"
    page.close()


def test_conversation_downloads_as_markdown_with_citations(server, browser):
    page = browser.new_page(accept_downloads=True)
    page.goto(server, wait_until="load")
    ask(page, "Who signs off on choosing the vendor?")
    page.locator(".citation-card").first.wait_for(timeout=60_000)
    time.sleep(1)
    with page.expect_download(timeout=30_000) as info:
        page.get_by_role("button", name="Download conversation (Markdown)").click()
    text = Path(info.value.path()).read_text(encoding="utf-8")
    assert text.startswith("# Questions about buying AI")
    assert "## Who signs off on choosing the vendor?" in text and "[1] Who to involve" in text
    assert "https://example.org/who" in text
    page.close()
