"""The Gradio chat and the JSON API beside it (the only module that imports gradio).

It only renders: each answer comes from `Assistant.ask`, and every piece of
document or question text is HTML-escaped before it reaches the page.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import anyio
import gradio as gr
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from assistant.records import Answer
from assistant.service import Assistant, QuestionError, Turn
from assistant.settings import MAX_QUESTION_CHARS
from index.search import Scope

EXAMPLES = [
    "We're buying an off-the-shelf chatbot licence: who do we need to involve?",
    "What should the contract say about who owns our data?",
    "How can residents take part in decisions about buying AI?",
    "What is a hallucination?",
]

CSS = """
:root { --pa-ink: #1a1a1a; --pa-accent: #0b4f8a; }
.gradio-container { font-size: 18px; color: var(--pa-ink); }
.citation-card { border: 1px solid #8a8a8a; border-radius: 8px; padding: 12px 16px; margin: 10px 0; background: #fff; }
.citation-card h3 { margin: 0 0 4px 0; font-size: 1.05em; }
.citation-card .where { color: #3d3d3d; font-size: 0.9em; margin-bottom: 6px; }
.citation-card mark { background: #ffe58a; color: #000; }
.citation-card a { color: var(--pa-accent); text-decoration: underline; }
.refusal { border-left: 6px solid #8a5a00; padding-left: 10px; }
"""


def citation_cards(answer: Answer) -> str:
    """The sources of an answer as HTML cards, the quoted sentences highlighted. All text escaped."""
    if answer.refused or not answer.citations:
        return ""
    cards = []
    for c in answer.citations:
        passage = html.escape(c.text)
        for quote in sorted({s.text for s in answer.sentences if c.n in s.citations}, key=len, reverse=True):
            q = html.escape(quote.lstrip("-• ").strip())
            if q and q in passage:
                passage = passage.replace(q, f"<mark>{q}</mark>", 1)
        where = " › ".join(html.escape(x) for x in (c.section or c.title).split(" > "))
        page = f", page {c.page}" if c.page else ""
        link = (f'<a href="{html.escape(c.url, quote=True)}" target="_blank" rel="noopener noreferrer">Open the published source</a>'
                if c.url.startswith(("https://", "http://")) else "")
        cards.append(
            f'<div class="citation-card" id="citation-{c.n}"><h3>[{c.n}] {html.escape(c.title)}</h3>'
            f'<div class="where">{where}{page} · {html.escape(c.publisher or "")} · licence: {html.escape(c.license or "not stated")}</div>'
            f'<div class="passage">{passage.replace(chr(10), "<br>")}</div><div>{link}</div></div>'
        )
    return "\n".join(cards)


def answer_markdown(answer: Answer) -> str:
    """The answer for the chat bubble: document text escaped, [n] linked to its card."""
    text = html.escape(answer.answer, quote=False)
    for c in answer.citations:
        text = text.replace(f"[{c.n}]", f"[[{c.n}]](#citation-{c.n})")
    return text


def build_ui(assistant: Assistant, collections: list[str], feedback=None):
    def respond(message: str, history: list[dict], collection: str, state: list):
        try:
            scope = Scope(collections=frozenset({collection})) if collection and collection != "All guidance" else Scope()
            turns = tuple(Turn(t["question"], t["answer"]) for t in state)
            answer = assistant.ask(message, history=turns, scope=scope)
        except QuestionError as exc:
            history = history + [{"role": "user", "content": html.escape(message[:200])},
                                 {"role": "assistant", "content": f"⚠️ {html.escape(str(exc))}"}]
            return history, "", "", state
        history = history + [{"role": "user", "content": html.escape(message, quote=False)},
                             {"role": "assistant", "content": answer_markdown(answer)}]
        state = state + [{"question": message, "answer": answer.answer, "json": answer.to_dict()}]
        return history, "", citation_cards(answer), state

    def on_vote(data: gr.LikeData, comment: str, state: list):
        if feedback is None or not state:
            return gr.update()
        turn = state[min(data.index[0] // 2 if isinstance(data.index, (list, tuple)) else data.index // 2, len(state) - 1)]
        vote = "up" if data.liked is True or data.liked == "Like" else "down"
        earlier = [{"question": t["question"], "answer": t["answer"]} for t in state if t is not turn]
        feedback.add(vote, turn["question"], turn["json"], earlier, comment or "")
        return gr.update(value="", placeholder="Thank you: your feedback was saved.")

    def conversation_markdown(state: list) -> str | None:
        if not state:
            return None
        import tempfile

        lines = ["# Questions about buying AI, answered from the guidance", ""]
        for turn in state:
            lines += [f"## {turn['question']}", "", turn["json"]["answer"], ""]
            for c in turn["json"]["citations"]:
                page = f", p. {c['page']}" if c.get("page") else ""
                lines.append(f"[{c['n']}] {c['title']} — {c['section']}{page}. {c.get('publisher') or ''}. {c['url']}")
            lines.append("")
        path = Path(tempfile.mkdtemp(prefix="procure-ai-")) / "conversation.md"
        path.write_text("\n".join(lines), encoding="utf-8")
        return str(path)

    with gr.Blocks(title="procure-ai: buying AI, from the guidance") as demo:
        gr.Markdown("## Buying AI: answers from public guidance\nEvery answer quotes the guidance and cites its source. "
                    "It says so when the guidance does not cover a question.")
        state = gr.State([])
        with gr.Row():
            collection = gr.Dropdown(["All guidance", *collections], value="All guidance", label="Search in", scale=1)
            new = gr.Button("New conversation", scale=0)
        chatbot = gr.Chatbot(label="Conversation", height=420, sanitize_html=True, render_markdown=True, allow_tags=False)
        question = gr.Textbox(label="Your question", placeholder="Ask about buying AI…", max_lines=6,
                              max_length=MAX_QUESTION_CHARS, submit_btn=True)
        gr.Examples(EXAMPLES, inputs=question, label="Try a question")
        with gr.Row():
            comment = gr.Textbox(label="Comment on an answer (optional; then press thumbs up or down under it)", scale=3)
            download = gr.DownloadButton("Download conversation (Markdown)", scale=1)
        sources = gr.HTML(label="Sources", elem_id="sources")
        question.submit(respond, [question, chatbot, collection, state], [chatbot, question, sources, state]).then(
            conversation_markdown, state, download
        )
        chatbot.like(on_vote, [comment, state], comment)
        new.click(lambda: ([], "", "", [], None), None, [chatbot, question, sources, state, download])
    return demo


def build_app(assistant: Assistant, collections: list[str], auth: tuple[str, str] | None = None, concurrency: int = 4,
              feedback=None):
    """A FastAPI app with the chat at / and the JSON API at POST /api/ask."""
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

    @app.post("/api/ask")
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
            answer = await anyio.to_thread.run_sync(lambda: assistant.ask(body["question"], history=history, scope=scope))
        except QuestionError as exc:
            return JSONResponse({"question": body["question"][:200], "error": str(exc)}, status_code=400)
        return JSONResponse(answer.to_dict())

    demo = build_ui(assistant, collections, feedback).queue(default_concurrency_limit=concurrency, max_size=64)
    return gr.mount_gradio_app(app, demo, path="/", auth=auth, css=CSS, theme=gr.themes.Default(text_size="lg"))

