"""The Gradio chat, the JSON API and the presenter route beside it (the only module that imports gradio).

It only renders: each answer comes from `Assistant.ask` (streamed through
assistant/streaming.py), and every piece of document or question text is
HTML-escaped before it reaches the page.
"""

from __future__ import annotations

import html
import json
import secrets
import tempfile
from pathlib import Path

import anyio
import gradio as gr
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.security import HTTPBasic, HTTPBasicCredentials

from assistant import presenter
from assistant.deck import Slide
from assistant.llm import LLMError
from assistant.records import Answer
from assistant.service import Assistant, QuestionError, Turn
from assistant.settings import MAX_QUESTION_CHARS
from assistant.streaming import stream_answer
from index.search import Scope
from index.store import StoreError

EXAMPLES = [
    "We're buying an off-the-shelf chatbot licence: who do we need to involve?",
    "What should the contract say about who owns our data?",
    "How can residents take part in decisions about buying AI?",
    "What is a hallucination?",
]
ALL_GUIDANCE, ALL_DOCUMENTS = "All guidance", ""
NO_SOURCES = ('<h2 class="sources-heading">Sources</h2><p class="sources-empty">The passages an answer cites appear here: '
              'each [n] in an answer opens its source.</p>')

CSS = """
:root { --pa-ink: #1a1a1a; --pa-accent: #0b4f8a; }
.gradio-container { font-size: 18px; color: var(--pa-ink); }
.citation-card { border: 1px solid #767676; border-radius: 8px; padding: 12px 16px; margin: 10px 0; background: #fff; color: #1a1a1a; }
.citation-card.open { border: 3px solid var(--pa-accent); box-shadow: 0 0 0 4px #cfe3f5; }
.citation-card h3 { margin: 0 0 4px 0; font-size: 1.05em; color: #1a1a1a; }
.citation-card .where { color: #3d3d3d; font-size: 0.9em; margin-bottom: 6px; }
.citation-card mark { background: #ffe58a; color: #000; }
.citation-card a, .sources-turn a { color: var(--pa-accent); text-decoration: underline; }
.sources-turn > summary { font-weight: bold; cursor: pointer; color: #1a1a1a; padding: 4px 0; }
.sources-heading { font-size: 1.2em; margin: 8px 0; color: #1a1a1a; }
#copy-status { color: #1a1a1a; min-height: 1.5em; }
#examples .example-question { white-space: normal; text-align: left; height: auto; }
#ask-button { background: var(--pa-accent); border-color: var(--pa-accent); color: #fff; }
.gradio-container textarea::placeholder, .gradio-container input::placeholder { color: #5c5c66 !important; opacity: 1; }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
a:focus-visible, button:focus-visible, input:focus-visible, textarea:focus-visible, summary:focus-visible,
[tabindex]:focus-visible, [role="button"]:focus-visible, [role="option"]:focus-visible {
  outline: 3px solid var(--pa-accent) !important; outline-offset: 2px !important; }
"""

# [n] in an answer opens its card: the card is shown (its <details> opened), scrolled to, focused and outlined.
HEAD = """<script>
document.addEventListener('click', (event) => {
  const link = event.target.closest && event.target.closest('a[href^="#citation-"]');
  if (!link) return;
  const card = document.getElementById(link.getAttribute('href').slice(1));
  if (!card) return;
  event.preventDefault();
  event.stopPropagation();
  const turn = card.closest('details');
  if (turn) turn.open = true;
  document.querySelectorAll('.citation-card.open').forEach((c) => c.classList.remove('open'));
  card.classList.add('open');
  card.setAttribute('tabindex', '-1');
  card.scrollIntoView({block: 'center'});
  card.focus({preventScroll: true});
}, true);
</script>"""

# While an answer streams in, the chat log (an aria-live region) is marked busy, so a screen reader
# announces the finished answer once rather than every partial text.
LOG_BUSY_JS = "() => { const log = document.querySelector('#chat [role=log]'); if (log) log.setAttribute('aria-busy', '%s'); }"

# The copy button's handler: the clipboard API, or a hidden textarea where the page is not a secure context.
COPY_JS = """async (markdown) => {
  if (!markdown) return 'Ask a question first: there is nothing to copy yet.';
  try { await navigator.clipboard.writeText(markdown); }
  catch (error) {
    const area = document.createElement('textarea');
    area.value = markdown; document.body.appendChild(area); area.select();
    document.execCommand('copy'); area.remove();
  }
  return 'Copied the conversation as Markdown: paste it into a briefing or an email.';
}"""


def citation_cards(answer: Answer, turn: int = 1) -> str:
    """The sources of an answer as HTML cards (ids citation-TURN-N), the quoted sentences highlighted."""
    if answer.refused or not answer.citations:
        return ""
    cards = []
    for c in answer.citations:
        link = (f'<a href="{html.escape(c.url, quote=True)}" target="_blank" rel="noopener noreferrer">'
                f'Open the published source<span class="sr-only"> of [{c.n}] (opens in a new tab)</span></a>'
                if c.url.startswith(("https://", "http://")) else "")
        licence = f"licence: {html.escape(c.license or 'not stated')}"
        cards.append(
            f'<div class="citation-card" id="citation-{turn}-{c.n}"><h3>[{c.n}] {html.escape(c.title)}</h3>'
            f'<div class="where">{" · ".join(x for x in (presenter.where(c), html.escape(c.publisher or ""), licence) if x)}</div>'
            f'<div class="passage">{presenter.passage_html(c, answer)}</div><div>{link}</div></div>'
        )
    return "\n".join(cards)


def sources_html(state: list) -> str:
    """Every turn's cards, the latest first and open, each group headed by its question."""
    groups = []
    for number, turn in reversed(list(enumerate(state, start=1))):
        if not turn["cards"]:
            continue
        is_open = " open" if number == len(state) else ""
        searched = f', searched in {html.escape(turn["searched"])}' if turn.get("searched") else ""
        groups.append(f'<details class="sources-turn"{is_open}><summary>Sources for question {number}{searched}: '
                      f'“{html.escape(turn["question"][:120])}”</summary>{turn["cards"]}</details>')
    if not groups:
        return NO_SOURCES
    return '<h2 class="sources-heading">Sources</h2>' + "\n".join(groups)


def answer_markdown(answer: Answer, turn: int = 1) -> str:
    """The answer for the chat bubble: document text escaped, [n] linked to its card."""
    text = html.escape(answer.answer, quote=False)
    for c in answer.citations:
        text = text.replace(f"[{c.n}]", f"[[{c.n}]](#citation-{turn}-{c.n})")
    return text


def conversation_markdown(state: list) -> str:
    """The conversation as Markdown for a briefing: questions, answers, and their sources ('' if empty)."""
    if not state:
        return ""
    lines = ["# Questions about buying AI, answered from the guidance", ""]
    for turn in state:
        lines += [f"## {turn['question']}", "", turn["json"]["answer"], ""]
        for c in turn["json"]["citations"]:
            page = f", p. {c['page']}" if c.get("page") else ""
            lines.append(f"[{c['n']}] {c['title']} — {c['section']}{page}. {c.get('publisher') or ''}. {c['url']}".rstrip(" ."))
        lines.append("")
    return "\n".join(lines).replace("<", "&lt;")  # a Markdown viewer would otherwise run HTML from a question


def collection_choices(documents: dict) -> list[str]:
    """The "Search in" choices: all guidance, then each collection the documents belong to."""
    return [ALL_GUIDANCE, *sorted({d.collection for d in documents.values() if d.collection})]


def document_choices(documents: dict, collection: str) -> list[tuple[str, str]]:
    """(title, doc id) for the "Document" dropdown: all documents, or those of one collection."""
    chosen = [(d.title or doc_id, doc_id) for doc_id, d in documents.items()
              if collection in (ALL_GUIDANCE, "", None) or d.collection == collection]
    titles = [t for t, _ in chosen]
    labelled = [(f"{t} ({doc_id})" if titles.count(t) > 1 else t, doc_id) for t, doc_id in chosen]
    return [("All documents", ALL_DOCUMENTS), *sorted(labelled, key=lambda x: x[0].lower())]


def build_ui(assistant: Assistant, collections: list[str], feedback=None):
    """The chat. `collections` are the "Search in" choices the page is built with; each page load (and each
    choice of collection) lists the collections and documents of the live index, so an ingest shows up on reload."""

    def live_documents() -> dict:
        return assistant.searcher.index.catalog().documents  # reloaded when an ingest commits

    def refresh_lists(collection: str):
        documents = live_documents()
        choices = collection_choices(documents)
        collection = collection if collection in choices else ALL_GUIDANCE
        return (gr.update(choices=choices, value=collection),
                gr.update(choices=document_choices(documents, collection), value=ALL_DOCUMENTS))

    def respond(message: str, history: list[dict], collection: str, document: str, state: list):
        scope = Scope.of(None if collection in (ALL_GUIDANCE, None) else collection, document or None)
        turns = tuple(Turn(t["question"], t["answer"]) for t in state)
        number = len(state) + 1
        asked = {"role": "user", "content": html.escape(message, quote=False)}
        try:
            for step in stream_answer(assistant, message, turns, scope):
                if step.answer is None:
                    partial = html.escape(step.text, quote=False) + ("*" if step.text.count("*") % 2 else "") + " …"
                    yield history + [asked, {"role": "assistant", "content": partial}], "", gr.update(), state, gr.update()
                    continue
                answer = step.answer
                documents = live_documents()
                searched = documents[document].title if document in documents else (
                    "" if collection in (ALL_GUIDANCE, None) else collection)
                state = state + [{"question": message, "answer": answer.answer, "json": answer.to_dict(),
                                  "cards": citation_cards(answer, number), "searched": searched or ""}]
                yield (history + [asked, {"role": "assistant", "content": answer_markdown(answer, number)}], "",
                       sources_html(state), state, conversation_markdown(state))
        except (QuestionError, LLMError, StoreError) as exc:
            shown = {"role": "user", "content": html.escape(message[:200], quote=False)}
            yield history + [shown, {"role": "assistant", "content": f"Could not answer this: {html.escape(str(exc))}"}], "", gr.update(), state, gr.update()

    def on_vote(data: gr.LikeData, comment: str, state: list):
        if feedback is None or not state:
            return gr.update()
        turn = state[min(data.index[0] // 2 if isinstance(data.index, (list, tuple)) else data.index // 2, len(state) - 1)]
        vote = "up" if data.liked is True or data.liked == "Like" else "down"
        earlier = [{"question": t["question"], "answer": t["answer"]} for t in state if t is not turn]
        feedback.add(vote, turn["question"], turn["json"], earlier, comment or "")
        return gr.update(value="", placeholder="Thank you: your feedback was saved.")

    def download_file(markdown: str) -> str | None:
        if not markdown:
            return None
        path = Path(tempfile.mkdtemp(prefix="procure-ai-")) / "conversation.md"
        path.write_text(markdown, encoding="utf-8")
        return str(path)

    with gr.Blocks(title="procure-ai: buying AI, from the guidance") as demo:
        gr.Markdown("## Buying AI: answers from public guidance\nEvery answer quotes the guidance and cites its source. "
                    "It says so when the guidance does not cover a question.")
        state = gr.State([])
        with gr.Row():
            collection = gr.Dropdown([ALL_GUIDANCE, *collections], value=ALL_GUIDANCE, label="Search in", scale=1)
            document = gr.Dropdown(document_choices(live_documents(), ALL_GUIDANCE), value=ALL_DOCUMENTS, label="Document", scale=2)
            new = gr.Button("New conversation", scale=0, size="md")
        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(label="Conversation", elem_id="chat", height=440, sanitize_html=True, render_markdown=True,
                                     allow_tags=False, buttons=["copy"],
                                     placeholder="Ask a question below, or try one of the examples. Each answer quotes "
                                                 "the guidance; each [n] opens the passage it comes from.")
                with gr.Row(equal_height=True):  # the button outside the label, so the box is named "Your question" alone
                    question = gr.Textbox(label="Your question", placeholder="Ask about buying AI…", max_lines=6,
                                          max_length=MAX_QUESTION_CHARS, scale=5)
                    ask = gr.Button("Ask", variant="primary", scale=0, min_width=90, elem_id="ask-button")
                gr.Markdown("Try a question:", elem_id="examples-label")
                with gr.Row(elem_id="examples"):  # buttons, not gr.Examples: those cut a question at 60 characters
                    for example in EXAMPLES:
                        gr.Button(example, size="sm", elem_classes="example-question").click(
                            None, None, question, js=f"() => {json.dumps(example)}")
            with gr.Column(scale=2):
                sources = gr.HTML(NO_SOURCES, elem_id="sources", max_height=720)
        with gr.Row():
            comment = gr.Textbox(label="Comment on an answer (optional; then press thumbs up or down under it)", scale=3)
            with gr.Column(scale=1):
                download = gr.DownloadButton("Download conversation (Markdown)", size="md")
                copy = gr.Button("Copy conversation (Markdown)", size="md")
        copy_status = gr.Markdown("", elem_id="copy-status")
        markdown = gr.Textbox(visible="hidden", label="Conversation as Markdown", elem_id="conversation-markdown")
        demo.load(refresh_lists, collection, [collection, document], queue=False, show_progress="hidden")
        collection.change(lambda c: gr.update(choices=document_choices(live_documents(), c), value=ALL_DOCUMENTS),
                          collection, document, queue=False, show_progress="hidden")
        submitted = [question.submit, ask.click]
        gr.on(submitted, None, js=LOG_BUSY_JS % "true")
        answered = gr.on(submitted, respond, [question, chatbot, collection, document, state],
                         [chatbot, question, sources, state, markdown])
        answered.then(None, js=LOG_BUSY_JS % "false").then(download_file, markdown, download)
        chatbot.like(on_vote, [comment, state], comment)
        copy.click(None, markdown, copy_status, js=COPY_JS)
        cleared = [chatbot, question, sources, state, markdown, download, copy_status]
        new.click(lambda: ([], "", NO_SOURCES, [], "", None, ""), None, cleared)
        chatbot.clear(lambda: ([], "", NO_SOURCES, [], "", None, ""), None, cleared)  # the chat's own bin icon: the same
    return demo


def _login(auth: tuple[str, str] | None):
    """A dependency requiring HTTP Basic USER:PASSWORD when the chat has a login (none otherwise)."""
    basic = HTTPBasic(auto_error=False)

    def check(credentials: HTTPBasicCredentials | None = Depends(basic)) -> None:
        if auth is None:
            return
        if credentials is None or not (secrets.compare_digest(credentials.username, auth[0])
                                       and secrets.compare_digest(credentials.password, auth[1])):
            raise HTTPException(401, "login required", headers={"WWW-Authenticate": 'Basic realm="procure-ai"'})

    return check


def build_app(assistant: Assistant, collections: list[str], auth: tuple[str, str] | None = None, concurrency: int = 4,
              feedback=None, slides: list[Slide] | None = None, deck_name: str = ""):
    """A FastAPI app: the chat at /, the JSON API at POST /api/ask, the presenter view of `slides` at /present.

    With `auth` (USER, PASSWORD), the chat asks for that login and the API and the presenter view require it
    as HTTP Basic credentials.
    """
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    answering = anyio.CapacityLimiter(concurrency)  # --concurrency answers at once on the API too; the rest wait in turn
    login = Depends(_login(auth))

    @app.post("/api/ask", dependencies=[login])
    async def api_ask(request: Request):
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            return JSONResponse({"error": "the body must be a JSON object with a 'question'"}, status_code=400)
        if not isinstance(body, dict) or not isinstance(body.get("question"), str):
            return JSONResponse({"error": "the body must be a JSON object with a 'question'"}, status_code=400)
        history = tuple(Turn(str(t.get("question", "")), str(t.get("answer", ""))) for t in body.get("history") or [] if isinstance(t, dict))
        scope = Scope.of(body.get("collection"), body.get("doc"))
        try:
            answer = await anyio.to_thread.run_sync(lambda: assistant.ask(body["question"], history=history, scope=scope),
                                                    limiter=answering)
        except QuestionError as exc:
            return JSONResponse({"question": body["question"][:200], "error": str(exc)}, status_code=400)
        except (StoreError, LLMError) as exc:  # the index's store or the LLM is down: say so, and recover when it is back
            return JSONResponse({"question": body["question"][:200], "error": str(exc)}, status_code=503)
        return JSONResponse(answer.to_dict())

    presenter_page = presenter.page(slides, deck_name)  # prepared once: presenting never calls the model

    @app.get("/present", response_class=HTMLResponse, dependencies=[login])
    def present():
        return HTMLResponse(presenter_page)

    demo = build_ui(assistant, collections, feedback).queue(default_concurrency_limit=concurrency, max_size=64)
    return gr.mount_gradio_app(app, demo, path="/", auth=auth, css=CSS, head=HEAD, footer_links=[],
                               theme=gr.themes.Default(text_size="lg"))
