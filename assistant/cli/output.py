"""How the command line prints: one JSON object a line, or an answer as text with its sources."""

from __future__ import annotations

import json
import sys

from corpus.records import Answer


def print_json(data) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def render_text(answer: Answer) -> str:
    lines = [answer.answer, ""]
    if answer.citations:
        lines.append("Sources:")
        for c in answer.citations:
            where = c.section if c.section.startswith(c.title) else " > ".join(x for x in (c.title, c.section) if x)
            page = f", {c.page_label}" if c.page_label else ""
            lines.append(f"  [{c.n}] {where}{page} — {c.provenance.url}".rstrip(" —"))
    for name in dict.fromkeys(f"{p.title} ({p.doc_id})" for p in answer.retrieved if p.instructions):
        lines.append(f"Warning: {name} contains text addressed to an AI assistant; it is not guidance and was left "
                     "out of this answer.")
    return "\n".join(lines).rstrip() + "\n"
