"""The presenter view for trainers: a deck's prepared answers in large type, one page, no live model call.

Every slide is rendered here, server-side, with all question and document
text HTML-escaped; the page's script only shows and hides them. Each [n]
opens the cited passage full screen (a modal <dialog>; Esc closes it).
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from assistant.deck import Slide
from assistant.web.render import passage_html, where
from corpus.records import Answer

_CITE = re.compile(r"\[(\d+)\]")
_EMPHASIS = re.compile(r"\*([^*\n]+)\*")


def _answer_html(answer: Answer, slide: int) -> str:
    """The answer's lines as paragraphs and lists, each [n] a button opening its passage."""
    titles = {c.n: c.title for c in answer.citations}

    def cite(match: re.Match) -> str:
        n = int(match.group(1))
        if n not in titles:
            return match.group(0)
        return (f'<button type="button" class="cite" data-passage="passage-{slide}-{n}" '
                f'aria-label="Source {n}: {html.escape(titles[n], quote=True)}">[{n}]</button>')

    blocks, items = [], []
    for line in answer.answer.split("\n"):
        text = _CITE.sub(cite, _EMPHASIS.sub(r"<em>\1</em>", html.escape(line.strip(), quote=False)))
        if line.lstrip().startswith(("- ", "• ")):
            items.append(f"<li>{text[2:]}</li>")
            continue
        if items:
            blocks.append("<ul>" + "".join(items) + "</ul>")
            items = []
        if text:
            blocks.append(f"<p>{text}</p>")
    if items:
        blocks.append("<ul>" + "".join(items) + "</ul>")
    return "".join(blocks)


def _slide_html(slide: Slide, total: int) -> str:
    i = slide.number
    flag = ("" if slide.ready else
            f'<p class="flag" role="note">Flagged in the deck check: {html.escape("; ".join(slide.problems))}</p>')
    if slide.answer is None:
        return (f'<section class="slide" id="slide-{i}" hidden aria-label="Question {i} of {total}">{flag}'
                f'<h1 tabindex="-1">{html.escape(slide.question)}</h1></section>')
    answer = slide.answer
    sources = "".join(
        f'<li><button type="button" class="cite source" data-passage="passage-{i}-{c.n}">'
        f'<span class="n">[{c.n}]</span> {where(c)}</button></li>' for c in answer.citations)
    dialogs = "".join(
        f'<dialog class="passage" id="passage-{i}-{c.n}" aria-labelledby="passage-{i}-{c.n}-title">'
        f'<div class="passage-bar"><h2 id="passage-{i}-{c.n}-title">[{c.n}] {where(c)}</h2>'
        f'<button type="button" class="close">Close (Esc)</button></div>'
        f'<div class="passage-text">{passage_html(c, answer, heading_level=3)}</div>'
        f'<p class="passage-meta">{html.escape(c.provenance.publisher or "")}{" · " if c.provenance.publisher else ""}'
        f'licence: {html.escape(c.provenance.license or "not stated")}'
        + (f' · <a href="{html.escape(c.provenance.url, quote=True)}" target="_blank" rel="noopener noreferrer">'
           'published source</a>' if c.provenance.url.startswith(("https://", "http://")) else "")
        + "</p></dialog>" for c in answer.citations)
    aside = (f'<aside class="sources" aria-label="Sources"><h2>Sources</h2><ol>{sources}</ol></aside>'
             if sources else "")
    kind = " refusal" if answer.refused else ""
    layout = "body" if sources else "body no-sources"
    return (f'<section class="slide" id="slide-{i}" hidden aria-label="Question {i} of {total}">{flag}'
            f'<h1 tabindex="-1">{html.escape(slide.question)}</h1>'
            f'<div class="{layout}"><div class="answer{kind}">{_answer_html(answer, i)}</div>{aside}</div>{dialogs}</section>')


def _check_html(slides: list[Slide], deck_name: str) -> str:
    flagged = sum(not s.ready for s in slides)
    rows = "".join(
        f'<li class="{"ready" if s.ready else "flagged"}"><button type="button" class="goto" data-slide="{s.number}">'
        f'{s.number}. {html.escape(s.question)}</button> <span class="status">'
        + ("Ready" if s.ready else "Flagged: " + html.escape("; ".join(s.problems))) + "</span></li>"
        for s in slides)
    return (f'<section class="slide check" id="slide-0" aria-label="Deck check">'
            f'<h1 tabindex="-1">Deck check: {html.escape(deck_name)}</h1>'
            f'<p class="summary">{len(slides)} questions, {len(slides) - flagged} ready, {flagged} flagged. '
            f'Every answer was prepared and verified when the server started; nothing is asked live. '
            f'Press <kbd>→</kbd> or <strong>Next</strong> to start, <kbd>←</kbd> to go back, <kbd>Home</kbd> for this list.</p>'
            f'<ol class="deck">{rows}</ol></section>')


def page(slides: list[Slide] | None, deck_name: str = "") -> str:
    """The whole presenter page; without a deck, a page saying how to start with one."""
    if not slides:
        body = ('<main><section class="slide check"><h1>No question deck loaded</h1>'
                '<p class="summary">Start the server with a deck: <code>procure-ai serve --deck questions.txt</code> '
                '(one question per line, <code>#</code> for comments, or a <code>.jsonl</code> file of '
                '{"question": ...} lines). Every answer is prepared and checked at start-up.</p></section></main>')
        return _PAGE.format(body=body, total=0)
    body = ('<header class="bar"><button type="button" id="prev">← Previous</button>'
            '<p id="position" aria-live="polite">Deck check</p>'
            '<button type="button" id="check">Deck check</button>'
            '<button type="button" id="next">Next →</button></header><main>'
            + _check_html(slides, deck_name) + "".join(_slide_html(s, len(slides)) for s in slides) + "</main>")
    return _PAGE.format(body=body, total=len(slides))


_PAGE = (Path(__file__).with_name("assets") / "presenter.html").read_text(encoding="utf-8")
