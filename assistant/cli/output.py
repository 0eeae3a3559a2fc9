"""How the command line prints: one JSON object a line, or an answer as text with its sources."""

from __future__ import annotations

import json
import sys

from assistant.frame import frame
from corpus.records import Answer


def print_json(data) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def render_text(answer: Answer) -> str:
    """The answer, its sources (each with its edition in the other language, if any) and warnings, in the answer's
    language (assistant/frame.py)."""
    say = frame(answer.language)
    lines = [answer.answer, ""]
    if answer.citations:
        lines.append(say("sources"))
        for c in answer.citations:
            where = c.section if c.section.startswith(c.title) else " > ".join(x for x in (c.title, c.section) if x)
            pages = c.pages or ((c.page,) if c.page else ())
            page = (f", {say('page', page=pages[0])}" if len(pages) == 1 else
                    f", {say('pages', first=pages[0], last=pages[-1])}" if pages else "")
            lines.append(f"  [{c.n}] {where}{page} — {c.provenance.url}".rstrip(" —"))
            if other := c.other_language:
                language = say.language_name(other["language"])
                edition = (say("edition", language=language, title=other["title"], page=other["page"],
                               section=other["section"].split(" > ")[-1]) if other["page"]
                           else say("edition_no_page", language=language, title=other["title"]))
                lines.append(f"      {edition} — {other['url']}".rstrip(" —"))
    for name in dict.fromkeys(f"{p.title} ({p.doc_id})" for p in answer.retrieved if p.instructions):
        lines.append(say("instructions_warning", name=name))
    return "\n".join(lines).rstrip() + "\n"
