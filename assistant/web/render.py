"""HTML for answers and their sources, shared by the chat and the presenter view; every text escaped."""

from __future__ import annotations

import html
from urllib.parse import quote, urlencode

from assistant.web.passage import passage_blocks
from corpus.records import Answer, Citation

ALL_GUIDANCE, ALL_DOCUMENTS = "All guidance", ""
NO_SOURCES = ('<h2 class="sources-heading">Sources</h2><p class="sources-empty">The passages an answer cites appear here: '
              'each [n] in an answer opens its source.</p>')


def passage_html(citation: Citation, answer: Answer, heading_level: int = 4) -> str:
    """The cited passage as its document shows it (lists, tables, headings), escaped, the sentences the answer
    quotes in <mark> (assistant/web/passage.py); its headings start at <h`heading_level`>."""
    quotes = [s.text for s in answer.sentences if citation.n in s.citations] or [citation.quote]
    return passage_blocks(citation.text, quotes, heading_level)


def where(citation: Citation) -> str:
    """'Title › Section › Leaf, page n', escaped."""
    path = citation.section or citation.title
    if not path.startswith(citation.title):
        path = f"{citation.title} > {path}"
    page = f", {citation.page_label}" if citation.page_label else ""
    return " › ".join(html.escape(x) for x in path.split(" > ")) + page


def page_link(citation: Citation) -> str:
    """A link to the cited PDF page drawn with the quote highlighted (GET /page/...), or "" when not paged."""
    if not citation.pages:
        return ""
    url = (f"/page/{quote(citation.doc_id, safe='/')}/{citation.pages[0]}.png"
           f"?{urlencode({'quote': citation.quote[:1500]})}")
    return (f'<a class="page-link" href="{html.escape(url, quote=True)}" target="_blank" rel="noopener">'
            f'See page {citation.pages[0]}<span class="sr-only"> of [{citation.n}], the quote highlighted '
            f'(opens in a new tab)</span></a>')


def citation_cards(answer: Answer, turn: int = 1) -> str:
    """The sources of an answer as HTML cards (ids citation-TURN-N), the quoted sentences highlighted."""
    if answer.refused or not answer.citations:
        return ""
    cards = []
    for c in answer.citations:
        link = (f'<a href="{html.escape(c.provenance.url, quote=True)}" target="_blank" rel="noopener noreferrer">'
                f'Open the published source<span class="sr-only"> of [{c.n}] (opens in a new tab)</span></a>'
                if c.provenance.url.startswith(("https://", "http://")) else "")
        licence = f"licence: {html.escape(c.provenance.license or 'not stated')}"
        cards.append(
            f'<div class="citation-card" id="citation-{turn}-{c.n}"><h3>[{c.n}] {html.escape(c.title)}</h3>'
            f'<div class="where">{" · ".join(x for x in (where(c), html.escape(c.provenance.publisher or ""), licence) if x)}</div>'
            f'{instructions_warning(c.instructions)}<div class="passage" tabindex="0" role="group" '
            f'aria-label="Passage [{c.n}]">{passage_html(c, answer)}</div>'
            f'<div>{" · ".join(x for x in (link, page_link(c)) if x)}</div></div>'
        )
    return "\n".join(cards)


def instructions_warning(lines) -> str:
    """A warning on a source holding text addressed to an AI assistant (ingest/instructions.py), which search
    left out of what answers quote ("" for a source without)."""
    if not lines:
        return ""
    quoted = "; ".join(f"“{html.escape(line[:200])}”" for line in lines)
    return (f'<p class="instructions-warning" role="note"><strong>Warning:</strong> this document contains text '
            f'addressed to an AI assistant, not to readers. It is not guidance and was left out of the answer: {quoted}</p>')


def sources_html(state: list) -> str:
    """Every turn's cards, the latest first and open, each group headed by its question."""
    groups = []
    for number, turn in reversed(list(enumerate(state, start=1))):
        if not turn["cards"]:
            continue
        is_open = " open" if number == len(state) else ""
        searched = f', searched in {html.escape(turn["searched"])}' if turn.get("searched") else ""
        groups.append(f'<details class="sources-turn" id="sources-turn-{number}"{is_open}><summary>Sources for question {number}{searched}: '
                      f'“{html.escape(turn["question"][:120])}”</summary>{turn["cards"]}</details>')
    if not groups:
        return NO_SOURCES
    return '<h2 class="sources-heading">Sources</h2>' + "\n".join(groups)


def answer_markdown(answer: Answer, turn: int = 1) -> str:
    """The answer for the chat bubble: document text escaped, [n] linked to its card, and a warning naming any
    document found for the question that holds text addressed to an AI assistant."""
    text = html.escape(answer.answer, quote=False)
    for c in answer.citations:
        text = text.replace(f"[{c.n}]", f"[[{c.n}]](#citation-{turn}-{c.n})")
    flagged = dict.fromkeys(f"{p.title} ({p.doc_id})" for p in answer.retrieved if p.instructions)
    for name in flagged:
        text += (f"\n\n⚠ Warning: {html.escape(name, quote=False)} contains text addressed to an AI assistant; "
                 "it is not guidance and was left out of this answer.")
    return text


def conversation_markdown(state: list) -> str:
    """The conversation as Markdown for a briefing: questions, answers, and their sources ('' if empty)."""
    if not state:
        return ""
    lines = ["# Questions about buying AI, answered from the guidance", ""]
    for turn in state:
        lines += [f"## {turn['question']}", "", turn["json"]["answer"], ""]
        for c in turn["json"]["citations"]:
            pages = c.get("pages") or ([c["page"]] if c.get("page") else [])
            page = f", p. {pages[0]}" if len(pages) == 1 else f", pp. {pages[0]}–{pages[-1]}" if pages else ""
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
