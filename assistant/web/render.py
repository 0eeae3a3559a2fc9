"""HTML for answers and their sources, shared by the chat and the presenter view; every text escaped."""

from __future__ import annotations

import html
from urllib.parse import quote, urlencode

from assistant.web.passage import passage_blocks
from assistant.web.texts import Texts, texts
from corpus.records import Answer, Citation

EN = texts("en")
ALL_GUIDANCE, ALL_DOCUMENTS = "All guidance", ""  # the lists' values for "everything" (their labels are translated)


def no_sources(t: Texts = EN) -> str:
    """The Sources column before any answer."""
    return (f'<h2 class="sources-heading">{t("sources_heading")}</h2><p class="sources-empty">'
            f'{html.escape(t("sources_empty"), quote=False)}</p>')


NO_SOURCES = no_sources()


def passage_html(citation: Citation, answer: Answer, heading_level: int = 4) -> str:
    """The cited passage as its document shows it (lists, tables, headings), escaped, the sentences the answer
    quotes in <mark> (assistant/web/passage.py); its headings start at <h`heading_level`>."""
    quotes = [s.text for s in answer.sentences if citation.n in s.citations] or [citation.quote]
    return passage_blocks(citation.text, quotes, heading_level)


def page_label(citation: Citation, t: Texts = EN) -> str:
    """"p. 2", "pp. 2–3" (in Welsh "t. 2", "tt. 2–3"), "" when not paged."""
    pages = citation.pages or ((citation.page,) if citation.page else ())
    if not pages:
        return ""
    return t("page", page=pages[0]) if len(pages) == 1 else t("pages", first=pages[0], last=pages[-1])


def where(citation: Citation, t: Texts = EN) -> str:
    """'Title › Section › Leaf, page n', escaped."""
    path = citation.section or citation.title
    if not path.startswith(citation.title):
        path = f"{citation.title} > {path}"
    label = page_label(citation, t)
    page = f", {label}" if label else ""
    return " › ".join(html.escape(x) for x in path.split(" > ")) + page


def page_link(citation: Citation, t: Texts = EN) -> str:
    """A link to the cited PDF page drawn with the quote highlighted (GET /page/...), or "" when not paged."""
    if not citation.pages:
        return ""
    url = (f"/page/{quote(citation.doc_id, safe='/')}/{citation.pages[0]}.png"
           f"?{urlencode({'quote': citation.quote[:1500]})}")
    return (f'<a class="page-link" href="{html.escape(url, quote=True)}" target="_blank" rel="noopener">'
            f'{t("see_page", page=citation.pages[0])}<span class="sr-only">{t("see_page_sr", n=citation.n)}</span></a>')


def edition_link(citation: Citation, t: Texts = EN) -> str:
    """A link to the same place in the cited document's edition in the other language ("" without one): its
    page drawn (GET /page/...) where the index holds that edition's PDF, else its published URL."""
    other = citation.other_language
    if not other:
        return ""
    key = f"in_{other['language']}"
    language = t(key) if key in t.words else other["language"]
    if other.get("page"):
        leaf = other["section"].split(" > ")[-1] if other.get("section") else other["title"]
        text = t("other_edition", language=language, section=leaf, page=other["page"])
        url = f"/page/{quote(other['doc_id'], safe='/')}/{other['page']}.png"
    else:
        text, url = t("other_edition_document", language=language), other.get("url", "")
    if not url:
        return ""
    return (f'<a class="edition-link" href="{html.escape(url, quote=True)}" target="_blank" rel="noopener" '
            f'hreflang="{html.escape(other["language"], quote=True)}">{html.escape(text, quote=False)}'
            f'<span class="sr-only">{t("opens_new_tab", n=citation.n)}</span></a>')


def citation_cards(answer: Answer, turn: int = 1, t: Texts = EN) -> str:
    """The sources of an answer as HTML cards (ids citation-TURN-N), the quoted sentences highlighted."""
    if answer.refused or not answer.citations:
        return ""
    cards = []
    for c in answer.citations:
        link = (f'<a href="{html.escape(c.provenance.url, quote=True)}" target="_blank" rel="noopener noreferrer">'
                f'{t("open_source")}<span class="sr-only">{t("opens_new_tab", n=c.n)}</span></a>'
                if c.provenance.url.startswith(("https://", "http://")) else "")
        licence = t("licence", licence=html.escape(c.provenance.license or t("not_stated")))
        lang = f' lang="{html.escape(c.provenance.language, quote=True)}"' if c.provenance.language else ""
        cards.append(
            f'<div class="citation-card" id="citation-{turn}-{c.n}"><h3{lang}>[{c.n}] {html.escape(c.title)}</h3>'
            f'<div class="where">{" · ".join(x for x in (where(c, t), html.escape(c.provenance.publisher or ""), licence) if x)}</div>'
            f'{instructions_warning(c.instructions, t)}<div class="passage" tabindex="0" role="group" '
            f'aria-label="{html.escape(t("passage_label", n=c.n), quote=True)}"{lang}>{passage_html(c, answer)}</div>'
            f'<div>{" · ".join(x for x in (link, page_link(c, t), edition_link(c, t)) if x)}</div></div>'
        )
    return "\n".join(cards)


def instructions_warning(lines, t: Texts = EN) -> str:
    """A warning on a source holding text addressed to an AI assistant (ingest/instructions.py), which search
    left out of what answers quote ("" for a source without)."""
    if not lines:
        return ""
    quoted = "; ".join(f"“{html.escape(line[:200])}”" for line in lines)
    return (f'<p class="instructions-warning" role="note"><strong>{t("warning")}</strong> '
            f'{t("warning_text", quoted=quoted)}</p>')


def sources_html(state: list, t: Texts = EN) -> str:
    """Every turn's cards, the latest first and open, each group headed by its question."""
    groups = []
    for number, turn in reversed(list(enumerate(state, start=1))):
        if not turn["cards"]:
            continue
        is_open = " open" if number == len(state) else ""
        searched = t("searched_in", scope=html.escape(turn["searched"])) if turn.get("searched") else ""
        summary = t("sources_for", n=number, searched=searched, question=html.escape(turn["question"][:120]))
        groups.append(f'<details class="sources-turn" id="sources-turn-{number}"{is_open}><summary>{summary}'
                      f'</summary>{turn["cards"]}</details>')
    if not groups:
        return no_sources(t)
    return f'<h2 class="sources-heading">{t("sources_heading")}</h2>' + "\n".join(groups)


def answer_markdown(answer: Answer, turn: int = 1, t: Texts = EN) -> str:
    """The answer for the chat bubble: document text escaped, [n] linked to its card, and a warning naming any
    document found for the question that holds text addressed to an AI assistant."""
    text = html.escape(answer.answer, quote=False)
    for c in answer.citations:
        text = text.replace(f"[{c.n}]", f"[[{c.n}]](#citation-{turn}-{c.n})")
    flagged = dict.fromkeys(f"{p.title} ({p.doc_id})" for p in answer.retrieved if p.instructions)
    for name in flagged:
        text += "\n\n" + t("answer_warning", name=html.escape(name, quote=False))
    return text


def conversation_markdown(state: list, t: Texts = EN) -> str:
    """The conversation as Markdown for a briefing: questions, answers, and their sources ('' if empty)."""
    if not state:
        return ""
    lines = [f"# {t('markdown_heading')}", ""]
    for turn in state:
        lines += [f"## {turn['question']}", "", turn["json"]["answer"], ""]
        for c in turn["json"]["citations"]:
            pages = c.get("pages") or ([c["page"]] if c.get("page") else [])
            page = (", " + t("page", page=pages[0]) if len(pages) == 1
                    else ", " + t("pages", first=pages[0], last=pages[-1]) if pages else "")
            lines.append(f"[{c['n']}] {c['title']} — {c['section']}{page}. {c.get('publisher') or ''}. {c['url']}".rstrip(" ."))
        lines.append("")
    return "\n".join(lines).replace("<", "&lt;")  # a Markdown viewer would otherwise run HTML from a question


def collection_choices(documents: dict, t: Texts = EN) -> list[tuple[str, str]]:
    """The "Search in" choices, (label, value): all guidance, then each collection the documents belong to."""
    return [(t("all_guidance"), ALL_GUIDANCE), *((c, c) for c in sorted({d.collection for d in documents.values()
                                                                          if d.collection}))]


def document_choices(documents: dict, collection: str, t: Texts = EN) -> list[tuple[str, str]]:
    """(title, doc id) for the "Document" dropdown: all documents, or those of one collection."""
    chosen = [(d.title or doc_id, doc_id) for doc_id, d in documents.items()
              if collection in (ALL_GUIDANCE, "", None) or d.collection == collection]
    titles = [t for t, _ in chosen]
    labelled = [(f"{t} ({doc_id})" if titles.count(t) > 1 else t, doc_id) for t, doc_id in chosen]
    return [(t("all_documents"), ALL_DOCUMENTS), *sorted(labelled, key=lambda x: x[0].lower())]
