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
                                  collection_choices, conversation_markdown, document_choices, no_sources, sources_html)
from assistant.web.texts import LANGUAGES, choose, texts
from corpus.records import Scope, Turn
from corpus.settings import ServerSettings
from index.search import UnknownScope
from index.store import StoreError

EXAMPLE_KEYS = ("example_1", "example_2", "example_3", "example_4")
EXAMPLES = [texts("en")(k) for k in EXAMPLE_KEYS]
ASSETS = Path(__file__).with_name("assets")
CSS = (ASSETS / "chat.css").read_text(encoding="utf-8")
FONT = ("DejaVu Sans", "sans-serif")  # served from assets/fonts (page.css's @font-face): every letter in one face
# the words the page's own scripts say (screen-reader labels, the copy and download messages), in each language
SCRIPT_TEXTS = {lang: {k: texts(lang)(k) for k in ("sr_answer", "sr_question", "sr_source", "nothing_to_copy", "copied",
                                                   "nothing_to_download", "downloaded", "page_title")}
                for lang in LANGUAGES}
HEAD = ("<style>\n" + (ASSETS / "page.css").read_text(encoding="utf-8") + "</style>\n"
        "<script>\nwindow.procureAiTexts = " + json.dumps(SCRIPT_TEXTS, ensure_ascii=False).replace("</", "<\\/")
        + ";\n" + (ASSETS / "chat.js").read_text(encoding="utf-8") + "</script>")

# While an answer streams in, the chat log (an aria-live region) is marked busy, so a screen reader
# announces the finished answer once rather than every partial text.
LOG_BUSY_JS = "() => { const log = document.querySelector('#chat [role=log]'); if (log) log.setAttribute('aria-busy', '%s'); }"

# The page's language, set after it loads or the switch is pressed: the <html lang>, the title, the scripts' words, and
# the address (?lang=), so a reload keeps the choice.
LANGUAGE_JS = """(lang) => {
  window.procureAiLang = lang;
  document.documentElement.lang = lang;
  document.title = window.procureAiTexts[lang].page_title;
  const url = new URL(window.location.href);
  if (url.searchParams.get('lang') !== lang && (url.searchParams.has('lang') || lang !== 'en')) {
    url.searchParams.set('lang', lang);
    history.replaceState(history.state, '', url);
  }
}"""
SAY = "((key) => window.procureAiTexts[window.procureAiLang || 'en'][key])"

# The copy button's handler: the clipboard API, or a hidden textarea where the page is not a secure context.
COPY_JS = """async (markdown) => {
  const say = """ + SAY + """;
  if (!markdown) return say('nothing_to_copy');
  try { await navigator.clipboard.writeText(markdown); }
  catch (error) {
    const area = document.createElement('textarea');
    area.value = markdown; document.body.appendChild(area); area.select();
    document.execCommand('copy'); area.remove();
  }
  return say('copied');
}"""



# The download button's handler: the Markdown saved straight from the page (a Blob), so no file is written on
# the server for it (each answer used to leave one in /tmp).
DOWNLOAD_JS = """(markdown) => {
  const say = """ + SAY + """;
  if (!markdown) return say('nothing_to_download');
  const link = document.createElement('a');
  link.href = URL.createObjectURL(new Blob([markdown], {type: 'text/markdown;charset=utf-8'}));
  link.download = 'conversation.md';
  document.body.appendChild(link); link.click(); link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 60000);
  return say('downloaded');
}"""

def build_ui(assistant: Assistant, feedback=None, server: ServerSettings = ServerSettings()):
    """The chat, in English or Welsh (assistant/web/texts.py). Each page load (and each choice of collection)
    lists the collections and documents of the live index, so an ingest shows up on reload; each load also
    picks the page's language (?lang=, else the browser's), and the switch in the masthead changes it in place."""

    def live_documents() -> dict:
        return assistant.catalog().documents  # reloaded when an ingest commits

    def page(lang: str, collection: str, document: str, state: list, relabel: bool = True) -> list:
        """The lists of collections and documents, read from the live index, and (`relabel`) every label of the
        page in `lang`: updates in the order of `localised` below. The collection and document chosen stay chosen
        while the index still has them: a choice made before the page's load is answered, or before a switch of
        language, is not undone."""
        t = texts(lang)
        documents = live_documents()
        choices = collection_choices(documents, t)
        collection = collection if collection in [v for _, v in choices] else ALL_GUIDANCE
        in_collection = document_choices(documents, collection, t)
        document = document if document in [v for _, v in in_collection] else ALL_DOCUMENTS
        named = (lambda key: {"label": t(key)}) if relabel else (lambda key: {})  # noqa: E731
        lists = [gr.update(choices=choices, value=collection, **named("search_in")),
                 gr.update(choices=in_collection, value=document, **named("document"))]
        if not relabel:
            return [gr.update()] * 2 + lists + [gr.update()] * (len(EXAMPLE_KEYS) + 9) + [lang]
        return [gr.update(value=f"# {t('title')}"), gr.update(value=t("switch")), *lists,
                gr.update(value=t("new_conversation")), gr.update(value=t("download")), gr.update(value=t("copy")),
                gr.update(placeholder=t("chat_placeholder")),
                gr.update(label=t("your_question"), placeholder=t("ask_placeholder")), gr.update(value=t("ask")),
                gr.update(value=t("try_question")), *(gr.update(value=t(k)) for k in EXAMPLE_KEYS),
                gr.update(label=t("comment")), gr.update(value=sources_html(state, t)), lang]

    def on_load(collection: str, document: str, state: list, request: gr.Request):
        lang = choose(request.query_params.get("lang") if request else None,
                      request.headers.get("accept-language") if request else None)
        return page(lang, collection, document, state, relabel=lang != "en")  # the page is drawn in English

    def switch_language(lang: str, collection: str, document: str, state: list):
        return page(texts(lang)("switch_lang"), collection, document, state)

    def respond(message: str, history: list[dict], collection: str, document: str, state: list, lang: str):
        t = texts(lang)
        scope = Scope.of(None if collection in (ALL_GUIDANCE, None) else collection, document or None)
        turns = tuple(Turn(turn["question"], turn["answer"]) for turn in state)
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
                                  "cards": citation_cards(answer, number, t), "searched": searched or ""}]
                yield (history + [asked, {"role": "assistant", "content": answer_markdown(answer, number, t)}], "",
                       sources_html(state, t), state, conversation_markdown(state, t))
        except (QuestionError, LLMError, StoreError, UnknownScope) as exc:
            shown = {"role": "user", "content": html.escape(message[:200], quote=False)}
            error = (t("error_empty") if not message.strip() else
                     t("error_too_long", n=f"{len(message.strip()):,}", limit=f"{assistant.answers.max_question_chars:,}")
                     if len(message.strip()) > assistant.answers.max_question_chars else str(exc))
            said = t("could_not_answer", error=html.escape(error))
            yield history + [shown, {"role": "assistant", "content": said}], "", gr.update(), state, gr.update()

    def on_vote(data: gr.LikeData, comment: str, state: list, lang: str):
        if feedback is None or not state:
            return gr.update()
        turn = state[min(data.index[0] // 2 if isinstance(data.index, (list, tuple)) else data.index // 2, len(state) - 1)]
        vote = "up" if data.liked is True or data.liked == "Like" else "down"
        earlier = [{"question": t["question"], "answer": t["answer"]} for t in state if t is not turn]
        feedback.add(vote, turn["question"], turn["json"], earlier, comment or "")
        return gr.update(value="", placeholder=texts(lang)("thanks"))

    def show_aids(state: list):
        """The example questions until there is an answer, then the comment box for the thumbs under it."""
        return gr.update(visible=not state), gr.update(visible=bool(state))

    t = texts("en")  # the page as first drawn; a Welsh visitor's is relabelled as it loads
    # The layout fills the window (fill_height): the conversation and the sources each scroll inside their own
    # pane, so the question box, the latest answer's start and the card a citation opens are seen together.
    with gr.Blocks(title=t("page_title"), fill_height=True) as demo:
        with gr.Row(elem_id="masthead"):
            title = gr.Markdown(f"# {t('title')}", elem_id="title")
            copy_status = gr.Markdown("", elem_id="copy-status")
            switch = gr.Button(t("switch"), scale=0, size="sm", min_width=90, elem_id="language-switch",
                               elem_classes="tool")
        state = gr.State([])
        with gr.Row(elem_id="toolbar"):
            collection = gr.Dropdown(collection_choices(live_documents()), value=ALL_GUIDANCE, label=t("search_in"), scale=1)
            document = gr.Dropdown(document_choices(live_documents(), ALL_GUIDANCE), value=ALL_DOCUMENTS,
                                   label=t("document"), scale=2)
            new = gr.Button(t("new_conversation"), scale=0, size="md", elem_classes="tool")
            download = gr.Button(t("download"), size="md", scale=0, elem_classes="tool")
            copy = gr.Button(t("copy"), size="md", scale=0, elem_classes="tool")
        with gr.Row(equal_height=False, scale=1, elem_id="workspace"):
            with gr.Column(scale=3, elem_id="conversation-pane"):
                chatbot = gr.Chatbot(label="Conversation", show_label=False, elem_id="chat", scale=1, height="100%", autoscroll=False,
                                     sanitize_html=True, render_markdown=True, allow_tags=False, buttons=["copy"],
                                     placeholder=t("chat_placeholder"))
                with gr.Row(equal_height=True, elem_id="ask-row"):  # the button outside the label: the box is named "Your question" alone
                    question = gr.Textbox(label=t("your_question"), placeholder=t("ask_placeholder"), max_lines=6,
                                          max_length=assistant.answers.max_question_chars, scale=5)
                    ask = gr.Button(t("ask"), variant="primary", scale=0, min_width=90, elem_id="ask-button")
                with gr.Column(elem_id="examples-box") as examples:  # shown until the first answer
                    try_label = gr.Markdown(t("try_question"), elem_id="examples-label")
                    with gr.Row(elem_id="examples"):  # buttons, not gr.Examples: those cut a question at 60 characters
                        example_buttons = []
                        for key in EXAMPLE_KEYS:  # each puts its own (translated) text in the box
                            button = gr.Button(t(key), size="sm", elem_classes="example-question")
                            button.click(None, button, question, js="(text) => text")
                            example_buttons.append(button)
                comment = gr.Textbox(label=t("comment"), visible=False, elem_id="comment", max_lines=2)  # shown once there is an answer
            with gr.Column(scale=2, elem_id="sources-pane"):
                sources = gr.HTML(NO_SOURCES, elem_id="sources")
        markdown = gr.Textbox(visible="hidden", label="Conversation as Markdown", elem_id="conversation-markdown")
        lang = gr.Textbox("en", visible="hidden", label="Language", elem_id="page-language")  # the page's scripts read it
        localised = [title, switch, collection, document, new, download, copy, chatbot, question, ask, try_label,
                     *example_buttons, comment, sources, lang]
        demo.load(on_load, [collection, document, state], localised, queue=False,
                  show_progress="hidden").then(None, lang, None, js=LANGUAGE_JS)
        switch.click(switch_language, [lang, collection, document, state], localised, queue=False,
                     show_progress="hidden").then(None, lang, None, js=LANGUAGE_JS)
        collection.change(lambda c, lg: gr.update(choices=document_choices(live_documents(), c, texts(lg)), value=ALL_DOCUMENTS),
                          [collection, lang], document, queue=False, show_progress="hidden")
        submitted = [question.submit, ask.click]
        gr.on(submitted, None, js=LOG_BUSY_JS % "true")
        answered = gr.on(submitted, respond, [question, chatbot, collection, document, state, lang],
                         [chatbot, question, sources, state, markdown])
        answered.then(None, js=LOG_BUSY_JS % "false")
        answered.then(show_aids, state, [examples, comment], queue=False, show_progress="hidden")
        chatbot.like(on_vote, [comment, state, lang], comment)
        copy.click(None, markdown, copy_status, js=COPY_JS)
        download.click(None, markdown, copy_status, js=DOWNLOAD_JS)
        cleared = [chatbot, question, sources, state, markdown, copy_status, examples, comment]
        fresh = lambda lg: ([], "", no_sources(texts(lg)), [], "", "", *show_aids([]))  # noqa: E731
        new.click(fresh, lang, cleared)
        chatbot.clear(fresh, lang, cleared)  # the chat's own bin icon: the same
    return demo
