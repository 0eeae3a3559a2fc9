"""An answer as text that keeps its sources, for clients that show only text (chat apps, `llm`, MCP hosts).

The answer's [n] markers stay as they are; a "Sources:" list after it names each
cited passage and links to where it was published, so a reader of the text alone
can still check every claim. `citation_spans` finds the markers, for clients that
take citations as offsets (OpenAI's `url_citation` annotations).
"""

from __future__ import annotations

import re

from assistant.frame import frame
from corpus.language import LANGUAGES
from corpus.records import Answer, Citation

SOURCES = "\n\nSources:\n"
HEADINGS = tuple(f"\n\n{frame(lang)('sources')}\n" for lang in LANGUAGES)  # "Sources:", "Ffynonellau:"
_MARKER = re.compile(r"\[(\d+)\]")


def citation_label(citation: Citation) -> str:
    """Where a citation points, in words: "Title › section path, p. 3"."""
    title, section = citation.title, citation.section
    where = section if title and section.startswith(title) else " › ".join(x for x in (title, section) if x)
    return where + (f", p. {citation.page}" if citation.page else "")


def citation_url(citation: Citation) -> str:
    """The published page of the cited document, or its procure-ai address when it has none (an ingested file)."""
    return citation.provenance.url or f"procure-ai://document/{citation.doc_id}"


def answer_record(answer: Answer, drop: tuple[str, ...] = ("retrieved",)) -> dict:
    """The answer's JSON less the `drop` fields, each citation's `url` filled in as `citation_url` gives it."""
    data = {key: value for key, value in answer.to_dict().items() if key not in drop}
    if "citations" in data:
        data["citations"] = [{**record, "url": citation_url(c)} for c, record in zip(answer.citations, data["citations"])]
    return data


def with_sources(answer: Answer) -> str:
    """The answer text, then one line per citation ("- [1] Title › section — https://…"); a refusal as it is."""
    if not answer.citations:
        return answer.answer
    lines = [f"- [{c.n}] {citation_label(c)} — {citation_url(c)}" for c in answer.citations]
    return answer.answer + f"\n\n{frame(answer.language)('sources')}\n" + "\n".join(lines)


def without_sources(text: str) -> str:
    """An earlier reply as the assistant wrote it, with the sources list `with_sources` added taken off again."""
    for heading in HEADINGS:
        text = text.split(heading, 1)[0]
    return text


def citation_spans(answer: Answer) -> list[tuple[int, int, Citation]]:
    """(start, end, citation) for each [n] in the answer text that names one of its citations, in order."""
    by_number = {c.n: c for c in answer.citations}
    return [(m.start(), m.end(), by_number[int(m.group(1))]) for m in _MARKER.finditer(answer.answer)
            if int(m.group(1)) in by_number]
