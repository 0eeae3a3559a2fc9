"""The presenter view for trainers: a deck's prepared answers in large type, one page, no live model call.

Every slide is rendered here, server-side, with all question and document
text HTML-escaped; the page's script only shows and hides them. Each [n]
opens the cited passage full screen (a modal <dialog>; Esc closes it).
"""

from __future__ import annotations

import html
import re

from assistant.deck import Slide
from assistant.records import Answer, Citation

_CITE = re.compile(r"\[(\d+)\]")
_EMPHASIS = re.compile(r"\*([^*\n]+)\*")


def passage_html(citation: Citation, answer: Answer) -> str:
    """The cited passage, escaped, with the sentences the answer quotes in <mark>."""
    passage = html.escape(citation.text)
    quotes = {s.text for s in answer.sentences if citation.n in s.citations}
    for quote in sorted(quotes, key=len, reverse=True):
        q = html.escape(quote.lstrip("-• ").strip())
        if q and q in passage:
            passage = passage.replace(q, f"<mark>{q}</mark>", 1)
    return passage.replace("\n", "<br>")


def where(citation: Citation) -> str:
    """'Title › Section › Leaf, page n', escaped."""
    path = citation.section or citation.title
    if not path.startswith(citation.title):
        path = f"{citation.title} > {path}"
    page = f", page {citation.page}" if citation.page else ""
    return " › ".join(html.escape(x) for x in path.split(" > ")) + page


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
        f'<div class="passage-text">{passage_html(c, answer)}</div>'
        f'<p class="passage-meta">{html.escape(c.publisher or "")}{" · " if c.publisher else ""}'
        f'licence: {html.escape(c.license or "not stated")}'
        + (f' · <a href="{html.escape(c.url, quote=True)}" target="_blank" rel="noopener noreferrer">published source</a>'
           if c.url.startswith(("https://", "http://")) else "")
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


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>procure-ai: presenter view</title>
<style>
* {{ box-sizing: border-box; }}
html, body {{ margin: 0; background: #fff; color: #111; font-family: "DejaVu Sans", Arial, sans-serif; overflow-x: hidden; }}
body {{ font-size: 26px; line-height: 1.4; }}
main {{ padding: 16px 40px 40px; }}
.bar {{ position: sticky; top: 0; z-index: 1; display: flex; gap: 16px; align-items: center; padding: 8px 40px;
        background: #0b2f4f; color: #fff; }}
.bar p {{ flex: 1; margin: 0; font-size: 24px; }}
button {{ font: inherit; cursor: pointer; }}
.bar button:disabled {{ opacity: 0.6; cursor: default; }}
.bar button {{ font-size: 24px; padding: 6px 18px; border: 2px solid #fff; border-radius: 8px; background: #0b2f4f; color: #fff; }}
:focus-visible {{ outline: 4px solid #ffbf00 !important; outline-offset: 3px; box-shadow: 0 0 0 7px #111; }}
h1 {{ font-size: 38px; line-height: 1.25; margin: 8px 0 16px; overflow-wrap: anywhere; }}
.body {{ display: grid; grid-template-columns: minmax(0, 1fr) 340px; gap: 32px; }}
.body.no-sources {{ grid-template-columns: minmax(0, 1fr); }}
.answer {{ font-size: 30px; overflow-wrap: anywhere; }}
.answer p {{ margin: 0 0 8px; }}
.answer ul {{ margin: 0 0 16px; padding-left: 36px; }}
.answer li {{ margin-bottom: 8px; }}
.answer.refusal {{ border-left: 8px solid #8a4b00; padding-left: 20px; }}
.cite {{ font-size: 0.8em; font-weight: bold; color: #0b4f8a; background: #e8f1fa; border: 2px solid #0b4f8a;
         border-radius: 6px; padding: 0 6px; margin: 0 2px; }}
.sources h2 {{ font-size: 26px; margin: 0 0 8px; }}
.sources ol {{ list-style: none; margin: 0; padding: 0; }}
.sources li {{ margin-bottom: 10px; }}
.cite.source {{ display: block; width: 100%; text-align: left; font-size: 22px; font-weight: normal; color: #111;
                background: #f4f7fa; padding: 8px 10px; overflow-wrap: anywhere; }}
.cite.source .n {{ font-weight: bold; color: #0b4f8a; }}
.flag {{ font-size: 22px; margin: 0 0 8px; padding: 6px 14px; background: #fff3e0; color: #6b3a00; border-left: 8px solid #8a4b00; }}
.summary {{ font-size: 26px; }}
kbd {{ font-family: inherit; border: 2px solid #555; border-radius: 4px; padding: 0 6px; }}
.deck {{ padding-left: 0; list-style: none; }}
.deck li {{ margin: 0 0 12px; }}
.deck .goto {{ font-size: 26px; text-align: left; background: none; border: none; color: #0b4f8a; text-decoration: underline; padding: 0; overflow-wrap: anywhere; }}
.deck .status {{ display: block; font-size: 22px; }}
.deck .ready .status {{ color: #1d5e20; }}
.deck .flagged .status {{ color: #6b3a00; font-weight: bold; }}
dialog.passage {{ width: 100vw; height: 100vh; max-width: none; max-height: none; margin: 0; border: none; padding: 24px 48px;
                  background: #fff; color: #111; overflow-y: auto; overflow-x: hidden; }}
dialog.passage::backdrop {{ background: #111; }}
.passage-bar {{ display: flex; gap: 24px; align-items: flex-start; justify-content: space-between; }}
.passage-bar h2 {{ font-size: 28px; margin: 0 0 16px; color: #0b2f4f; overflow-wrap: anywhere; }}
.passage-bar .close {{ font-size: 24px; padding: 6px 18px; border: 2px solid #0b2f4f; border-radius: 8px; background: #0b2f4f; color: #fff; white-space: nowrap; }}
.passage-text {{ font-size: 34px; line-height: 1.45; overflow-wrap: anywhere; }}
.passage-text mark {{ background: #ffe58a; color: #000; }}
.passage-meta {{ font-size: 22px; color: #333; }}
.passage-meta a {{ color: #0b4f8a; }}
</style></head>
<body data-total="{total}">{body}
<script>
(() => {{
  const total = Number(document.body.dataset.total);
  if (!total) return;
  let current = 0;
  const position = document.getElementById('position');
  function show(n) {{
    current = Math.max(0, Math.min(total, n));
    document.querySelectorAll('.slide').forEach(s => {{ s.hidden = s.id !== 'slide-' + current; }});
    position.textContent = current ? 'Question ' + current + ' of ' + total : total + ' questions: press Next to start';
    document.getElementById('prev').disabled = current === 0;
    document.getElementById('next').disabled = current === total;
    history.replaceState(null, '', '#' + current);
    window.scrollTo(0, 0);
  }}
  document.getElementById('next').addEventListener('click', () => show(current + 1));
  document.getElementById('prev').addEventListener('click', () => show(current - 1));
  document.getElementById('check').addEventListener('click', () => show(0));
  document.addEventListener('click', (e) => {{
    const cite = e.target.closest('.cite');
    if (cite) document.getElementById(cite.dataset.passage).showModal();
    const close = e.target.closest('dialog .close');
    if (close) close.closest('dialog').close();
    const go = e.target.closest('.goto');
    if (go) show(Number(go.dataset.slide));
  }});
  document.addEventListener('keydown', (e) => {{
    if (document.querySelector('dialog[open]') || e.altKey || e.ctrlKey || e.metaKey) return;
    if (['ArrowRight', 'PageDown'].includes(e.key)) {{ e.preventDefault(); show(current + 1); }}
    else if (['ArrowLeft', 'PageUp'].includes(e.key)) {{ e.preventDefault(); show(current - 1); }}
    else if (e.key === 'Home') {{ e.preventDefault(); show(0); }}
  }});
  const fromHash = () => show(Number((location.hash || '#0').slice(1)) || 0);
  window.addEventListener('hashchange', fromHash);
  fromHash();
}})();
</script></body></html>
"""
