"""The chat and the presenter view in a real browser (Debian's Chromium driven by Playwright), and the JSON API."""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from conftest import ROOT, free_port, wait_until_up, write_corpus

from assistant.web.chat import EXAMPLES
from corpus.settings import ServerSettings

SCREENSHOTS = ROOT / "artifacts" / "screenshots"
XSS = '<img src=x onerror="window.__xss=1">'
DECK = f"""# Webinar: buying AI, session 1 (a comment: not a question)

- Who signs off on choosing the vendor?
2. What should the contract say about our data?
What is the capital of France?
What does the vendor text say about data portability? <img src=x onerror="window.__xss=3">
"""

# Each text the last answer bubble shows, as the page changes (seen by a MutationObserver, with a timestamp).
WATCH_ANSWERS = """() => { window.__seen = []; new MutationObserver(() => {
  const bots = document.querySelectorAll("[data-testid='bot']");
  const text = bots.length ? bots[bots.length - 1].innerText.trim() : '';
  const last = window.__seen[window.__seen.length - 1];
  if (text && (!last || last.text !== text)) window.__seen.push({text, t: performance.now()});
}).observe(document.body, {subtree: true, childList: true, characterData: true}); }"""

# WCAG 2 contrast of each element matching a selector: its text colour over the backgrounds behind it.
CONTRAST = """(selector) => {
  const parse = (c) => {
    let m = c.match(/^rgba?\\(([^)]+)\\)/);
    if (m) { const p = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number); return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1]; }
    m = c.match(/^color\\(srgb ([^)]+)\\)/);
    if (m) { const p = m[1].split(/[\\s\\/]+/).filter(Boolean).map(Number); return [p[0] * 255, p[1] * 255, p[2] * 255, p.length > 3 ? p[3] : 1]; }
    throw new Error('unparsed colour ' + c);
  };
  const blend = (top, bottom) => [0, 1, 2].map(i => top[i] * top[3] + bottom[i] * (1 - top[3])).concat([1]);
  const lum = (c) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
                       return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]); };
  const background = (el) => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c[3] > 0) { layers.push(c); if (c[3] >= 1) break; }
    }
    return layers.reverse().reduce((bg, layer) => blend(layer, bg), [255, 255, 255, 1]);
  };
  const ratio = (color, el) => {
    const bg = background(el), fg = blend(parse(color), bg);
    const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
    return (a + 0.05) / (b + 0.05);
  };
  return [...document.querySelectorAll(selector)].filter(el => el.getClientRects().length).map(el => ({
    what: (el.innerText || el.getAttribute('aria-label') || el.tagName).trim().slice(0, 50),
    ratio: ratio(getComputedStyle(el).color, el),
    placeholder: ['INPUT', 'TEXTAREA'].includes(el.tagName) && el.placeholder ? ratio(getComputedStyle(el, '::placeholder').color, el) : null,
  }));
}"""

# The chat log's aria-busy each time the last answer bubble's text changes.
WATCH_LOG_BUSY = """() => { window.__busy = []; new MutationObserver(() => {
  const log = document.querySelector('[role=log]'), bots = document.querySelectorAll("[data-testid='bot']");
  const text = bots.length ? bots[bots.length - 1].innerText.trim() : '';
  const last = window.__busy[window.__busy.length - 1];
  if (text && (!last || last.text !== text)) window.__busy.push({text, busy: log && log.getAttribute('aria-busy')});
}).observe(document.body, {subtree: true, childList: true, characterData: true}); }"""

FOCUSED = """() => { const e = document.activeElement, s = getComputedStyle(e);
  return {tag: e.tagName, href: e.getAttribute('href') || '', id: e.id, name: (e.getAttribute('aria-label') || e.innerText || '').trim(),
          outline: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2}; }"""


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("ui-data")


@pytest.fixture(scope="module")
def served(tmp_path_factory, data_dir):
    """`procure-ai serve --deck` over a small corpus (one document with HTML in it): (url, log path)."""
    base = tmp_path_factory.mktemp("ui")
    corpus = write_corpus(base / "corpus")
    write_corpus(corpus, {"hostile.txt": f"Hostile vendor note\n\nA vendor sent this text about data portability: {XSS} <script>window.__xss=2</script> please review it.\n"})
    (base / "webinar.txt").write_text(DECK, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PROCURE_AI_DATA_DIR": str(data_dir)}
    subprocess.run([sys.executable, "-m", "assistant.cli", "ingest", str(corpus)], env=env, check=True, capture_output=True)
    port = free_port()
    log = base / "serve.log"
    with open(log, "w", encoding="utf-8") as out:
        proc = subprocess.Popen([sys.executable, "-m", "assistant.cli", "serve", "--port", str(port), "--deck", str(base / "webinar.txt")],
                                env=env, stdout=out, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    wait_until_up(url + "/", proc, "the chat")
    yield url, log
    proc.terminate()
    proc.wait(timeout=20)


@pytest.fixture(scope="module")
def server(served):
    return served[0]


def screenshot(page, name: str, full_page: bool = False) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=full_page)


def post(url: str, body, auth: tuple[str, str] | None = None) -> tuple[int, dict]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if auth:
        headers["Authorization"] = "Basic " + base64.b64encode(":".join(auth).encode()).decode()
    request = urllib.request.Request(url + "/api/ask", data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def ask(page, question: str):
    box = page.get_by_label("Your question")
    box.fill(question)
    box.press("Enter")


def choose(page, dropdown: str, option: str):
    page.get_by_label(dropdown).click()
    page.get_by_role("option", name=option, exact=True).click()


def low_contrast(page, selector: str) -> list:
    """Elements matching `selector` whose text (or placeholder) is under WCAG AA's 4.5:1; fails if none match."""
    found = page.evaluate(CONTRAST, selector)
    assert found, f"nothing visible matches {selector}"
    return [f for f in found if f["ratio"] < 4.5 or (f["placeholder"] is not None and f["placeholder"] < 4.5)]


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
    bubble.get_by_role("link", name="[1]").first.click()  # [1] (one per sentence it backs) opens its card: outlined and focused
    page.wait_for_function("document.activeElement && document.activeElement.id === 'citation-1-1'", timeout=5_000)
    assert "open" in card.get_attribute("class")
    screenshot(page, "chat-answer-and-citation.png", full_page=True)
    # a follow-up keeps the conversation, and its sources come first; the first answer's stay below
    ask(page, "and what about their legal colleague?")
    page.wait_for_function("document.querySelectorAll(\"[data-testid='bot']\").length >= 2", timeout=60_000)
    page.wait_for_function("document.querySelectorAll('.sources-turn').length == 2", timeout=30_000)
    assert page.locator(".sources-turn summary").first.inner_text().startswith("Sources for question 2")
    page.get_by_role("button", name="New conversation").click()
    page.wait_for_function("document.querySelectorAll(\"[data-testid='bot']\").length == 0", timeout=10_000)
    assert page.locator(".citation-card").count() == 0
    page.close()


def test_offline_answer_streams_in_then_shows_the_cited_answer(server, browser):
    page = browser.new_page()
    page.goto(server, wait_until="load")
    page.evaluate(WATCH_ANSWERS)
    ask(page, "Who signs off on choosing the vendor?")
    page.locator(".citation-card").first.wait_for(timeout=60_000)
    page.wait_for_function("window.__seen.length && !window.__seen[window.__seen.length - 1].text.endsWith('…')", timeout=10_000)
    seen = page.evaluate("window.__seen")
    partial = [s for s in seen if s["text"].endswith("…")]
    final = seen[-1]
    assert len({s["text"] for s in partial}) >= 2, seen  # it appeared in steps, not all at once
    assert all(len(a["text"]) < len(b["text"]) for a, b in zip(partial, partial[1:]))  # each step shows more
    assert final["t"] - partial[0]["t"] < 2000  # the reveal is quick
    assert "Procurement officer, who leads the procurement process and signs off the vendor selection. [1]" in final["text"]
    bot = page.locator("[data-testid='bot']").last
    assert bot.get_by_role("link", name="[1]").count() == bot.inner_text().count("[1]") >= 1  # each [1] is a link, once
    page.close()


class StreamingLLM:
    """An LLM answerer that streams its reply token by token: one supported sentence, one invented figure."""

    name = "llm"
    verbatim = False
    REPLY = "The procurement officer signs off the vendor selection [1]. Vendors must pay a 15% penalty for each late week [1]."

    def answer(self, question, passages, on_token=None):
        from corpus.records import Answer, Citation, Sentence
        from assistant.verify import split_answer

        for token in re.findall(r"\S+\s*", self.REPLY):
            on_token(token)
            time.sleep(0.04)
        citations = [Citation.from_passage(i, p) for i, p in enumerate(passages, start=1)]
        sentences = [Sentence(s, numbers, bool(numbers), 0.0) for s, numbers in split_answer(self.REPLY)]
        return Answer(question, self.REPLY, False, citations, sentences=sentences, answerer=self.name)


@pytest.fixture(scope="module")
def llm_chat(served, data_dir):
    """The chat app in this process, its answerer an LLM that streams (the real index, verifier and UI)."""
    import uvicorn

    from assistant.web.app import build_app
    from assistant.factory import build_assistant
    from corpus.settings import Settings

    assistant = build_assistant(Settings.load(environ={}, data_dir=data_dir), answerer=StreamingLLM())
    port = free_port()
    uv = uvicorn.Server(uvicorn.Config(build_app(assistant), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while not uv.started:
        assert thread.is_alive() and time.time() < deadline, "the in-process chat did not start"
        time.sleep(0.1)
    yield url
    uv.should_exit = True
    thread.join(timeout=20)


def test_llm_tokens_stream_into_the_chat_and_the_verified_answer_replaces_them(llm_chat, browser):
    page = browser.new_page()
    page.goto(llm_chat, wait_until="load")
    page.evaluate(WATCH_ANSWERS)
    ask(page, "Who signs off on choosing the vendor?")
    page.locator(".citation-card").first.wait_for(timeout=60_000)
    page.wait_for_function("window.__seen.length && window.__seen[window.__seen.length - 1].text.includes('unsupported')", timeout=10_000)
    seen = [s["text"] for s in page.evaluate("window.__seen")]
    streamed = [t for t in seen if t.endswith("…")]
    assert len(streamed) >= 3, seen  # tokens arrived one after another
    assert any("15% penalty" in t and "unsupported" not in t for t in streamed)  # the invented sentence streamed as written...
    final = seen[-1]
    assert "The procurement officer signs off the vendor selection" in final and "[1]" in final
    assert re.search(r"15% penalty for each late week\.? ?\[unsupported\]", final), final  # ...and the verified answer marks it
    assert page.locator(".citation-card").count() == 1  # only the passage that supports a sentence is cited
    page.close()


def test_filter_by_document(server, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    page.goto(server, wait_until="load")
    # the page's load event redraws the toolbar in the page's language: a choice made before it is answered is undone
    page.wait_for_function("window.procureAiLang !== undefined", timeout=30_000)
    choose(page, "Search in", "Test Guide")  # the document list narrows to the collection's documents
    page.get_by_label("Document").click()
    page.wait_for_function("document.querySelectorAll('[role=option]').length == 2", timeout=10_000)
    assert page.get_by_role("option").all_inner_texts()[-1].strip() == "Who to involve"
    page.keyboard.press("Escape")
    choose(page, "Search in", "All guidance")
    choose(page, "Document", "Contract clauses")
    # switching the page's language and back redraws the lists: the document chosen stays chosen
    page.get_by_role("button", name="Cymraeg", exact=True).click()
    page.wait_for_function("document.documentElement.lang === 'cy'", timeout=10_000)
    page.get_by_role("button", name="English", exact=True).click()
    page.wait_for_function("document.documentElement.lang === 'en'", timeout=10_000)
    ask(page, "What happens to our data when we switch vendors?")  # unfiltered, this cites "Who to involve" too
    page.locator(".citation-card").first.wait_for(timeout=60_000)
    titles = page.locator(".citation-card h3").all_inner_texts()
    assert titles and all(re.fullmatch(r"\[\d+\] Contract clauses", t) for t in titles), titles
    assert "searched in Contract clauses" in page.locator(".sources-turn summary").first.inner_text()
    screenshot(page, "chat-filtered-to-one-document.png", full_page=True)
    status, body = post(server, {"question": "What happens to our data when we switch vendors?",
                                 "doc": "corpus/guide/clauses.md"})
    assert status == 200 and {c["doc_id"] for c in body["citations"]} == {"corpus/guide/clauses.md"}
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
    markdown = page.locator("#conversation-markdown textarea").input_value()  # what Copy and Download give
    assert "&lt;img src=x" in markdown and "<img" not in markdown  # a Markdown viewer will not run it either
    # the presenter view: a deck question and a cited document with HTML in them
    page.goto(server + "/present#4", wait_until="load")
    assert "<img src=x onerror=" in page.locator("#slide-4 h1").inner_text()
    page.locator("#slide-4 .answer .cite").first.click()
    assert '<img src=x onerror="window.__xss=1">' in page.locator("dialog[open] .passage-text").inner_text()
    assert page.evaluate("window.__xss === undefined") and page.locator("img[src='x']").count() == 0
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


@pytest.fixture(scope="module")
def offline_assistant(served, data_dir):
    """The assistant `serve` runs (the offline answerer) over the served index, in this process."""
    from assistant.factory import build_assistant
    from corpus.settings import Settings

    return build_assistant(Settings.load(environ={}, data_dir=data_dir))


def test_api_ask_requires_the_login_when_the_chat_has_one(offline_assistant):
    from fastapi.testclient import TestClient

    from assistant.web.app import build_app

    client = TestClient(build_app(offline_assistant, ServerSettings(auth="trainer:s3cret")))
    question = {"question": "Who signs off on choosing the vendor?"}
    response = client.post("/api/ask", json=question)
    assert response.status_code == 401 and response.headers["www-authenticate"].startswith("Basic")
    assert client.post("/api/ask", json=question, auth=("trainer", "wrong")).status_code == 401
    assert client.post("/api/ask", json=question, auth=("someone", "s3cret")).status_code == 401
    response = client.post("/api/ask", json=question, auth=("trainer", "s3cret"))
    assert response.status_code == 200
    body = response.json()
    assert "signs off the vendor selection" in body["answer"] and body["citations"][0]["title"] == "Who to involve"
    assert client.post("/api/ask", content=b"not json", auth=("trainer", "s3cret")).status_code == 400


def listening_addresses(port: int) -> set[str]:
    """The local addresses a socket listens on at `port`, read from the kernel's own table (/proc/net/tcp*)."""
    import ipaddress

    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                raw = bytes.fromhex(address)
                words = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))  # each 32-bit word is little-endian
                found.add(str(ipaddress.ip_address(words)))
    return found


def test_serve_listens_on_loopback_only(server):
    port = int(server.rsplit(":", 1)[1])
    assert listening_addresses(port) == {"127.0.0.1"}


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


def test_conversation_downloads_and_copies_as_markdown_with_citations(server, browser):
    import tempfile

    left_before = set(Path(tempfile.gettempdir()).glob("procure-ai-*/conversation.md"))
    context = browser.new_context(accept_downloads=True)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server)
    page = context.new_page()
    page.goto(server, wait_until="load")
    page.get_by_role("button", name="Copy conversation (Markdown)").click()
    page.wait_for_function("document.querySelector('#copy-status').innerText.includes('nothing to copy')", timeout=10_000)
    ask(page, "Who signs off on choosing the vendor?")
    page.locator(".citation-card").first.wait_for(timeout=60_000)
    time.sleep(1)
    with page.expect_download(timeout=30_000) as info:
        page.get_by_role("button", name="Download conversation (Markdown)").click()
    text = Path(info.value.path()).read_text(encoding="utf-8")
    assert info.value.suggested_filename == "conversation.md"
    assert set(Path(tempfile.gettempdir()).glob("procure-ai-*/conversation.md")) == left_before  # made in the page
    assert text.startswith("# Questions about buying AI")
    assert "## Who signs off on choosing the vendor?" in text and "[1] Who to involve" in text
    assert "https://example.org/who" in text
    page.get_by_role("button", name="Copy conversation (Markdown)").click()
    page.wait_for_function("document.querySelector('#copy-status').innerText.startsWith('Copied')", timeout=10_000)
    assert page.evaluate("navigator.clipboard.readText()") == text  # the same Markdown as the download
    context.close()


def test_keyboard_only_ask_and_open_a_citation(server, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    page.goto(server, wait_until="load")
    page.get_by_label("Your question").wait_for()  # Gradio has drawn the page (slow on a busy machine)

    def tab_until(condition: str, limit: int = 40) -> list[dict]:
        visited = []
        for _ in range(limit):
            page.keyboard.press("Tab")
            visited.append(page.evaluate(FOCUSED))
            if page.evaluate(f"(() => {{ const e = document.activeElement; return {condition}; }})()"):
                return visited
        raise AssertionError(f"Tab never reached {condition}: {visited}")

    visited = tab_until("e.tagName === 'TEXTAREA' && e.closest('label') && e.closest('label').innerText.includes('Your question')")
    page.keyboard.type("Who signs off on choosing the vendor?")
    page.keyboard.press("Enter")
    page.locator(".citation-card").first.wait_for(timeout=60_000)
    visited += tab_until("e.matches(\"[data-testid='bot'] a[href^='#citation-']\")")
    page.keyboard.press("Enter")
    page.wait_for_function("document.activeElement.id === 'citation-1-1'", timeout=5_000)
    card = page.locator("#citation-1-1")
    assert "Who to involve" in card.inner_text() and card.is_visible()
    box = card.bounding_box()
    assert box["y"] >= 0 and box["y"] < 720  # scrolled into view
    missing_focus = [v for v in visited if v["tag"] != "BODY" and not v["outline"]]
    assert not missing_focus, missing_focus  # every control shows where the focus is
    assert {"Search in", "Document", "New conversation"} <= {v["name"] for v in visited}
    page.close()


def test_controls_have_names_and_text_has_contrast(server, browser):
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1280, "height": 720})
    page.goto(server, wait_until="load")
    # each example question is shown whole on its button, and a click puts it in the question box
    for example in EXAMPLES:
        button = page.get_by_role("button", name=example, exact=True)
        assert button.inner_text().strip() == example
        assert button.evaluate("b => b.scrollWidth <= b.clientWidth && b.scrollHeight <= b.clientHeight + 1"), example
    box = page.get_by_role("textbox", name="Your question", exact=True)  # named by its label alone, not "Your question Ask"
    page.get_by_role("button", name=EXAMPLES[0], exact=True).click()
    expect(box).to_have_value(EXAMPLES[0], timeout=5_000)
    # the chat log is busy while an answer streams in: a screen reader announces the finished answer, not each partial
    page.evaluate(WATCH_LOG_BUSY)
    box.fill("Who signs off on choosing the vendor?")
    page.get_by_role("button", name="Ask", exact=True).click()
    page.locator(".citation-card").first.wait_for(timeout=60_000)
    page.wait_for_function("document.querySelector('[role=log]').getAttribute('aria-busy') === 'false'", timeout=10_000)
    seen = page.evaluate("window.__busy")
    partial = [s for s in seen if s["text"].endswith("…")]
    assert partial and all(s["busy"] == "true" for s in partial), seen
    log = page.get_by_role("log")
    assert log.get_attribute("aria-live") == "polite" and "signs off the vendor selection" in log.inner_text()
    time.sleep(0.5)
    tree = page.locator("body").aria_snapshot()
    unnamed = re.findall(r"^\s*- (button|link|textbox|combobox|checkbox)\s*(?::|$)", tree, re.M)
    assert not unnamed, tree  # every control has an accessible name
    assert re.search(r'^\s*- textbox "Your question":?$', tree, re.M), tree  # the box's name is its label alone
    for name in ["Search in", "Document", "Your question", "Comment on an answer"]:
        assert page.get_by_label(name).count() >= 1
    bot = page.locator("[data-testid='bot']").last
    assert bot.get_by_role("link", name="[1]").count() == bot.inner_text().count("[1]") >= 1  # real links
    key = ("[data-testid='bot'] p, [data-testid='bot'] li, [data-testid='user'] p, .citation-card h3, .citation-card .where, "
           ".citation-card .passage, .citation-card mark, .citation-card a, .sources-turn summary, main button, "
           "label [data-testid='block-info'], textarea, input")
    assert not low_contrast(page, key)
    page.goto(server + "/present#1", wait_until="load")
    tree = page.locator("body").aria_snapshot()
    assert not re.findall(r"^\s*- (button|link)\s*(?::|$)", tree, re.M), tree
    assert not low_contrast(page, ".bar button:not(:disabled), .bar p, #slide-1 h1, #slide-1 .answer p, #slide-1 .answer li, .cite")
    page.goto(server + "/present#3", wait_until="load")
    assert not low_contrast(page, "#slide-3 .flag, #slide-3 .answer p")
    page.close()


def test_serve_with_a_deck_prints_the_check(served):
    _, log = served
    text = log.read_text(encoding="utf-8")
    assert "Deck check: 4 questions, 3 ready, 1 flagged" in text
    assert re.search(r"ready +1\. Who signs off on choosing the vendor\? \(\d+ sources?\)", text)
    assert re.search(r"FLAGGED +3\. What is the capital of France\?: refused", text)


def test_presenter_view_at_1280x720(server, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    page.goto(server + "/present", wait_until="load")
    check = page.locator("#slide-0")
    assert "4 questions, 3 ready, 1 flagged" in check.inner_text()
    assert "Flagged: refused" in check.locator("li").nth(2).inner_text()  # France: flagged before going live
    assert "Ready" in check.locator("li").nth(0).inner_text()
    screenshot(page, "presenter-deck-check-1280x720.png")
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    page.get_by_role("button", name="Next").click()
    slide = page.locator("#slide-1")
    assert slide.is_visible() and page.locator("#position").inner_text() == "Question 1 of 4"
    assert slide.locator("h1").inner_text() == "Who signs off on choosing the vendor?"
    assert "signs off the vendor selection" in slide.locator(".answer").inner_text()
    assert slide.locator(".sources").get_by_role("button").first.inner_text().startswith("[1] Who to involve")
    size = page.evaluate("parseFloat(getComputedStyle(document.querySelector('#slide-1 .answer li')).fontSize)")
    assert size >= 24  # readable on a projector
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    screenshot(page, "presenter-answer-1280x720.png")
    # the keyboard (and a clicker's PageDown/PageUp) moves through the deck
    page.keyboard.press("ArrowRight")
    assert page.locator("#slide-2").is_visible() and not slide.is_visible()
    assert "public body owns its data" in page.locator("#slide-2 .answer").inner_text()
    page.keyboard.press("PageDown")
    assert page.locator("#slide-3 .answer.refusal").is_visible()
    assert "Flagged in the deck check" in page.locator("#slide-3 .flag").inner_text()
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("PageUp")
    assert slide.is_visible()
    page.get_by_role("button", name="Previous").click()
    assert check.is_visible()
    page.keyboard.press("ArrowRight")
    # a citation opens its passage full screen, in large type; Esc closes it, and so does the button
    slide.locator(".answer").get_by_role("button", name="Source 1: Who to involve").first.click()
    dialog = page.locator("dialog[open]")
    assert dialog.is_visible()
    box = dialog.bounding_box()
    assert box["width"] >= 1270 and box["height"] >= 710
    assert "Procurement officer, who leads the procurement process" in " ".join(dialog.locator("mark").all_inner_texts())
    assert page.evaluate("parseFloat(getComputedStyle(document.querySelector('dialog[open] .passage-text')).fontSize)") >= 28
    assert page.evaluate("document.querySelector('dialog[open]').scrollWidth <= document.querySelector('dialog[open]').clientWidth")
    screenshot(page, "presenter-passage-full-screen-1280x720.png")
    page.keyboard.press("Escape")
    assert page.locator("dialog[open]").count() == 0 and slide.is_visible()
    slide.locator(".sources button").first.focus()
    page.keyboard.press("Enter")
    assert page.locator("dialog[open]").count() == 1
    page.get_by_role("button", name="Close (Esc)").click()
    assert page.locator("dialog[open]").count() == 0
    assert not [u for u in requests if "/gradio_api" in u or "/api/ask" in u]  # nothing was asked live
    page.close()


def test_presenter_view_without_a_deck_says_how_to_load_one(llm_chat, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    page.goto(llm_chat + "/present", wait_until="load")
    assert "No question deck loaded" in page.locator("h1").inner_text()
    assert "procure-ai serve --deck" in page.locator("main").inner_text()
    page.close()


def test_presenter_view_asks_for_the_login_when_the_chat_has_one():
    from types import SimpleNamespace

    from fastapi.testclient import TestClient

    from assistant.web.app import build_app

    stub = SimpleNamespace(catalog=lambda: SimpleNamespace(documents={}), answers=SimpleNamespace(max_question_chars=2000))
    client = TestClient(build_app(stub, ServerSettings(auth="trainer:s3cret")))
    assert client.get("/present").status_code == 401
    assert client.get("/present", auth=("trainer", "wrong")).status_code == 401
    response = client.get("/present", auth=("trainer", "s3cret"))
    assert response.status_code == 200 and "No question deck loaded" in response.text



PORTAL = {
    "sources.toml": '[[document]]\npath = "access.md"\ntitle = "Tender portal accessibility"\n'
                    'publisher = "Portal Team"\ncollection = "Portal Notes"\nurl = "https://example.org/portal"\n',
    "access.md": "# Tender portal accessibility\n\nThe tender portal must meet WCAG 2.2 level AA. Bidders who use "
                 "a screen reader can ask the helpdesk for every tender document in an accessible format.\n",
}


@pytest.fixture(scope="module")
def ingest_while_serving(served, data_dir, tmp_path_factory):
    """Runs `procure-ai ingest` on a new folder (one document, its own collection) into the served data dir, once."""
    done = []

    def ingest() -> None:
        if done:
            return
        folder = write_corpus(tmp_path_factory.mktemp("portal"), PORTAL)
        env = {**os.environ, "PYTHONPATH": str(ROOT), "PROCURE_AI_DATA_DIR": str(data_dir)}
        subprocess.run([sys.executable, "-m", "assistant.cli", "ingest", str(folder)], env=env, check=True, capture_output=True)
        done.append(folder)

    return ingest


def test_a_document_ingested_while_the_chat_runs_is_listed_on_reload(server, browser, ingest_while_serving):
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    page.goto(server, wait_until="load")
    page.get_by_label("Document").click()
    page.get_by_role("option", name="All documents").wait_for(timeout=10_000)
    assert "Tender portal accessibility" not in page.get_by_role("option").all_inner_texts()
    page.keyboard.press("Escape")
    ingest_while_serving()
    page.reload(wait_until="load")
    page.get_by_label("Document").click()
    page.get_by_role("option", name="Tender portal accessibility", exact=True).wait_for(timeout=10_000)
    page.keyboard.press("Escape")
    choose(page, "Search in", "Portal Notes")  # its collection is listed too, and narrows the documents to it
    page.get_by_label("Document").click()
    page.wait_for_function("document.querySelectorAll('[role=option]').length == 2", timeout=10_000)
    assert page.get_by_role("option").all_inner_texts()[-1].strip() == "Tender portal accessibility"
    page.close()


def test_a_document_ingested_while_the_chat_runs_is_cited_when_chosen(server, browser, ingest_while_serving):
    ingest_while_serving()
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    page.goto(server, wait_until="load")
    choose(page, "Document", "Tender portal accessibility")
    ask(page, "What accessibility level must the tender portal meet?")
    page.wait_for_function("document.querySelectorAll(\"[data-testid='bot']\").length == 1 && "
                           "document.querySelector('[role=log]').getAttribute('aria-busy') === 'false'", timeout=60_000)
    screenshot(page, "chat-document-ingested-while-serving.png", full_page=True)
    answer = page.locator("[data-testid='bot']").last.inner_text()
    titles = page.locator(".citation-card h3").all_inner_texts()
    assert titles and all(re.fullmatch(r"\[\d+\] Tender portal accessibility", t) for t in titles), (titles, answer)
    assert "WCAG 2.2 level AA" in answer
    page.close()
