"""CSV: a glossary (term, definition, source) becomes one `##` entry per term; other tables one entry per row."""

from __future__ import annotations

import csv
import io

from corpus.text import inline
from ingest.readers.base import Read, UnreadableFile, decode


def read_csv(data: bytes) -> Read:
    raw = decode(data)
    try:
        rows = list(csv.DictReader(io.StringIO(raw)))
    except csv.Error as exc:
        raise UnreadableFile(f"malformed CSV ({exc})") from None
    if not rows:
        raise UnreadableFile("CSV has no rows")
    columns = {c.lower().strip(): c for c in rows[0] if c}
    term = columns.get("term") or next(iter(columns.values()))
    definition = columns.get("definition")
    source = columns.get("source")
    entries = []
    for row in rows:
        name = inline((row.get(term) or "").strip())
        if not name:
            continue
        if definition:
            body = inline((row.get(definition) or "").strip())
            if source and row.get(source):
                body += f" (Source: {inline(row[source].strip())})"
        else:
            body = "; ".join(f"{k}: {inline(v.strip())}" for k, v in row.items() if k and k != term and v and v.strip())
        entries.append(f"## {name}\n\n{body}")
    return Read("\n\n".join(entries) + "\n")
