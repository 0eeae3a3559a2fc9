"""The Gradio chat (the only module that imports gradio): it renders what `Assistant.ask` streams.

Every piece of document or question text is HTML-escaped before it reaches
the page (assistant/web/render.py).
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import gradio as gr

from assistant.llm import LLMError
from assistant.service import Assistant, QuestionError
from assistant.streaming import stream_answer
from assistant.web.render import (ALL_DOCUMENTS, ALL_GUIDANCE, NO_SOURCES, answer_markdown, citation_cards,
                                  collection_choices, conversation_markdown, document_choices, sources_html)
from corpus.records import Scope, Turn
from corpus.settings import ServerSettings
from index.search import UnknownScope
from index.store import StoreError

EXAMPLES = [
    "We're buying an off-the-shelf chatbot licence: who do we need to involve?",
    "What should the contract say about who owns our data?",
    "How can residents take part in decisions about buying AI?",
    "What is a hallucination?",
]
ASSETS = Path(__file__).with_name("assets")
CSS = (ASSETS / "chat.css").read_text(encoding="utf-8")
FONT = ("DejaVu Sans", "sans-serif")  # served from assets/fonts (page.css's @font-face): every letter in one face
HEAD = ("<style>\n" + (ASSETS / "page.css").read_text(encoding="utf-8") + "</style>\n"
        "<script>\n" + (ASSETS / "chat.js").read_text(encoding="utf-8") + "</script>")

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



# The download button's handler: the Markdown saved straight from the page (a Blob), so no file is written on
# the server for it (each answer used to leave one in /tmp).
DOWNLOAD_JS = """(markdown) => {
  if (!markdown) return 'Ask a question first: there is nothing to download yet.';
  const link = document.createElement('a');
  link.href = URL.createObjectURL(new Blob([markdown], {type: 'text/markdown;charset=utf-8'}));
  link.download = 'conversation.md';
  document.body.appendChild(link); link.click(); link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 60000);
  return 'Downloaded the conversation as conversation.md.';
}"""

def build_ui(assistant: Assistant, feedback=None, server: ServerSettings = ServerSettings()):
    """The chat. Each page load (and each choice of collection) lists the collections and documents of the
    live index, so an ingest shows up on reload."""

    def live_documents() -> dict:
        return assistant.catalog().documents  # reloaded when an ingest commits

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
            for step in stream_answer(assistant, message, turns, scope, server.reveal_seconds, server.stream_interval_s):
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
        except (QuestionError, LLMError, StoreError, UnknownScope) as exc:
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

    def show_aids(state: list):
        """The example questions until there is an answer, then the comment box for the thumbs under it."""
        return gr.update(visible=not state), gr.update(visible=bool(state))

    # The layout fills the window (fill_height): the conversation and the sources each scroll inside their own
    # pane, so the question box, the latest answer's start and the card a citation opens are seen together.
    with gr.Blocks(title="procure-ai: buying AI, from the guidance", fill_height=True) as demo:
        with gr.Row(elem_id="masthead"):
            gr.Markdown("# Buying AI: answers from public guidance", elem_id="title")
            copy_status = gr.Markdown("", elem_id="copy-status")
        state = gr.State([])
        with gr.Row(elem_id="toolbar"):
            collection = gr.Dropdown(collection_choices(live_documents()), value=ALL_GUIDANCE, label="Search in", scale=1)
            document = gr.Dropdown(document_choices(live_documents(), ALL_GUIDANCE), value=ALL_DOCUMENTS, label="Document", scale=2)
            new = gr.Button("New conversation", scale=0, size="md", elem_classes="tool")
            download = gr.Button("Download conversation (Markdown)", size="md", scale=0, elem_classes="tool")
            copy = gr.Button("Copy conversation (Markdown)", size="md", scale=0, elem_classes="tool")
        with gr.Row(equal_height=False, scale=1, elem_id="workspace"):
            with gr.Column(scale=3, elem_id="conversation-pane"):
                chatbot = gr.Chatbot(label="Conversation", show_label=False, elem_id="chat", scale=1, height="100%", autoscroll=False,
                                     sanitize_html=True, render_markdown=True, allow_tags=False, buttons=["copy"],
                                     placeholder="Every answer quotes the guidance and cites its source; each [n] opens "
                                                 "the passage it comes from. It says so when the guidance does not "
                                                 "cover a question.")
                with gr.Row(equal_height=True, elem_id="ask-row"):  # the button outside the label: the box is named "Your question" alone
                    question = gr.Textbox(label="Your question", placeholder="Ask about buying AI…", max_lines=6,
                                          max_length=assistant.answers.max_question_chars, scale=5)
                    ask = gr.Button("Ask", variant="primary", scale=0, min_width=90, elem_id="ask-button")
                with gr.Column(elem_id="examples-box") as examples:  # shown until the first answer
                    gr.Markdown("Try a question:", elem_id="examples-label")
                    with gr.Row(elem_id="examples"):  # buttons, not gr.Examples: those cut a question at 60 characters
                        for example in EXAMPLES:
                            gr.Button(example, size="sm", elem_classes="example-question").click(
                                None, None, question, js=f"() => {json.dumps(example)}")
                comment = gr.Textbox(label="Comment on an answer (optional; then press thumbs up or down under it)",
                                     visible=False, elem_id="comment", max_lines=2)  # shown once there is an answer
            with gr.Column(scale=2, elem_id="sources-pane"):
                sources = gr.HTML(NO_SOURCES, elem_id="sources")
        markdown = gr.Textbox(visible="hidden", label="Conversation as Markdown", elem_id="conversation-markdown")
        demo.load(refresh_lists, collection, [collection, document], queue=False, show_progress="hidden")
        collection.change(lambda c: gr.update(choices=document_choices(live_documents(), c), value=ALL_DOCUMENTS),
                          collection, document, queue=False, show_progress="hidden")
        submitted = [question.submit, ask.click]
        gr.on(submitted, None, js=LOG_BUSY_JS % "true")
        answered = gr.on(submitted, respond, [question, chatbot, collection, document, state],
                         [chatbot, question, sources, state, markdown])
        answered.then(None, js=LOG_BUSY_JS % "false")
        answered.then(show_aids, state, [examples, comment], queue=False, show_progress="hidden")
        chatbot.like(on_vote, [comment, state], comment)
        copy.click(None, markdown, copy_status, js=COPY_JS)
        download.click(None, markdown, copy_status, js=DOWNLOAD_JS)
        cleared = [chatbot, question, sources, state, markdown, copy_status, examples, comment]
        fresh = lambda: ([], "", NO_SOURCES, [], "", "", *show_aids([]))  # noqa: E731
        new.click(fresh, None, cleared)
        chatbot.clear(fresh, None, cleared)  # the chat's own bin icon: the same
    return demo
