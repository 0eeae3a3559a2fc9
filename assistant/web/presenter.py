"""The presenter view for trainers: a deck's prepared answers in large type, one page, no live model call.

Every slide is rendered here, server-side, with all question and document
text HTML-escaped; the page's script only shows and hides them. Each [n]
opens the cited passage full screen (a modal <dialog>; Esc closes it).
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

from assistant.deck import Slide
from assistant.web.render import EN, edition_link, passage_html, where
from assistant.web.texts import Texts
from corpus.records import Answer

_CITE = re.compile(r"\[(\d+)\]")
_EMPHASIS = re.compile(r"\*([^*\n]+)\*")


def _answer_html(answer: Answer, slide: int, t: Texts = EN) -> str:
    """The answer's lines as paragraphs and lists, each [n] a button opening its passage."""
    titles = {c.n: c.title for c in answer.citations}

    def cite(match: re.Match) -> str:
        n = int(match.group(1))
        if n not in titles:
            return match.group(0)
        label = t("source_button", n=n, title=html.escape(titles[n], quote=True))
        return f'<button type="button" class="cite" data-passage="passage-{slide}-{n}" aria-label="{label}">[{n}]</button>'

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


_PROBLEMS = {"refused (the guidance does not answer it as asked)": "problem_refused",
             "not a direct answer (the guidance's closest passages are quoted)": "problem_closest",
             "the guidance contradicts the question's premise (what it says instead is quoted)": "problem_premise",
             "no citations": "problem_no_citations"}
_UNSUPPORTED = re.compile(r"^(\d+) sentence\(s\) not supported by the passage they cite \((marked \[unsupported\]|left out)\)$")


def problems(slide: Slide, t: Texts = EN) -> str:
    """The deck check's problems with a slide (assistant/deck.py), in the page's language."""
    said = []
    for problem in slide.problems:
        unsupported = _UNSUPPORTED.match(problem)
        if problem in _PROBLEMS:
            said.append(t(_PROBLEMS[problem]))
        elif unsupported:
            action = t("problem_marked" if unsupported.group(2).startswith("marked") else "problem_left_out")
            said.append(t("problem_unsupported", count=unsupported.group(1), action=action))
        else:
            said.append(problem)
    return html.escape("; ".join(said))


def _slide_html(slide: Slide, total: int, t: Texts = EN) -> str:
    i = slide.number
    flag = ("" if slide.ready else
            f'<p class="flag" role="note">{t("flagged_in_check", problems=problems(slide, t))}</p>')
    position = html.escape(t("position", n=i, total=total), quote=True)
    if slide.answer is None:
        return (f'<section class="slide" id="slide-{i}" hidden aria-label="{position}">{flag}'
                f'<h1 tabindex="-1">{html.escape(slide.question)}</h1></section>')
    answer = slide.answer
    lang = f' lang="{answer.language}"' if answer.language != t.language else ""
    sources = "".join(
        f'<li><button type="button" class="cite source" data-passage="passage-{i}-{c.n}">'
        f'<span class="n">[{c.n}]</span> {where(c, t)}</button></li>' for c in answer.citations)
    dialogs = "".join(
        f'<dialog class="passage" id="passage-{i}-{c.n}" aria-labelledby="passage-{i}-{c.n}-title">'
        f'<div class="passage-bar"><h2 id="passage-{i}-{c.n}-title">[{c.n}] {where(c, t)}</h2>'
        f'<button type="button" class="close">{t("close")}</button></div>'
        f'<div class="passage-text"{_lang(c.provenance.language, t)}>{passage_html(c, answer, heading_level=3)}</div>'
        f'<p class="passage-meta">{html.escape(c.provenance.publisher or "")}{" · " if c.provenance.publisher else ""}'
        f'{t("licence", licence=html.escape(c.provenance.license or t("not_stated")))}'
        + (f' · <a href="{html.escape(c.provenance.url, quote=True)}" target="_blank" rel="noopener noreferrer">'
           f'{t("published_source")}</a>' if c.provenance.url.startswith(("https://", "http://")) else "")
        + (f" · {edition_link(c, t)}" if edition_link(c, t) else "")
        + "</p></dialog>" for c in answer.citations)
    heading = html.escape(t("sources_heading"), quote=True)
    aside = (f'<aside class="sources" aria-label="{heading}"><h2>{heading}</h2><ol>{sources}</ol></aside>'
             if sources else "")
    kind = " refusal" if answer.refused else ""
    layout = "body" if sources else "body no-sources"
    return (f'<section class="slide" id="slide-{i}" hidden aria-label="{position}">{flag}'
            f'<h1 tabindex="-1"{_lang(slide.answer.language, t)}>{html.escape(slide.question)}</h1>'
            f'<div class="{layout}"><div class="answer{kind}"{lang}>{_answer_html(answer, i, t)}</div>{aside}</div>'
            f'{dialogs}</section>')


def _lang(language: str, t: Texts) -> str:
    """A lang attribute for text in another language than the page's ("" for the page's own)."""
    return f' lang="{html.escape(language, quote=True)}"' if language and language != t.language else ""


def _check_html(slides: list[Slide], deck_name: str, t: Texts = EN) -> str:
    flagged = sum(not s.ready for s in slides)
    rows = "".join(
        f'<li class="{"ready" if s.ready else "flagged"}"><button type="button" class="goto" data-slide="{s.number}">'
        f'{s.number}. {html.escape(s.question)}</button> <span class="status">'
        + (t("ready") if s.ready else t("flagged", problems=problems(s, t))) + "</span></li>"
        for s in slides)
    return (f'<section class="slide check" id="slide-0" aria-label="{html.escape(t("deck_check"), quote=True)}">'
            f'<h1 tabindex="-1">{t("deck_check_title", name=html.escape(deck_name))}</h1>'
            f'<p class="summary">{t("deck_summary", n=len(slides), ready=len(slides) - flagged, flagged=flagged)}</p>'
            f'<ol class="deck">{rows}</ol></section>')


def page(slides: list[Slide] | None, deck_name: str = "", t: Texts = EN) -> str:
    """The whole presenter page in `t`'s language (the answers keep their own); without a deck, a page saying
    how to start with one. Both have the language switch."""
    other = t("switch_lang")
    switch = (f'<a class="language-switch" href="?lang={other}" lang="{other}" hreflang="{other}" '
              f'title="{html.escape(t("switch_label"), quote=True)}">{t("presenter_switch")}</a>')
    script = {"position": t("position"), "start": t("start")}
    if not slides:
        body = (f'<main><p class="switch-row">{switch}</p><section class="slide check"><h1>{t("no_deck_title")}</h1>'
                f'<p class="summary">{t("no_deck")}</p></section></main>')
        return _fill(body, 0, t, script)
    body = (f'<header class="bar"><button type="button" id="prev">{t("previous")}</button>'
            f'<p id="position" aria-live="polite">{t("deck_check")}</p>'
            f'<button type="button" id="check">{t("deck_check")}</button>'
            f'<button type="button" id="next">{t("next")}</button>{switch}</header><main>'
            + _check_html(slides, deck_name, t) + "".join(_slide_html(s, len(slides), t) for s in slides) + "</main>")
    return _fill(body, len(slides), t, script)


def _fill(body: str, total: int, t: Texts, script: dict) -> str:
    words = html.escape(json.dumps(script, ensure_ascii=False), quote=True)
    return _PAGE.format(body=body, total=total, lang=t.language, title=html.escape(t("presenter_title")), words=words)


_PAGE = (Path(__file__).with_name("assets") / "presenter.html").read_text(encoding="utf-8")
