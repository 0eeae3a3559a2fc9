"""Checks every page a citation names against the PDF's own text of that page: the quote must be there."""

from __future__ import annotations

from pathlib import Path


def check_pages(results, documents: dict, floor: float = 0.9) -> dict:
    """For each cited PDF page (`results`: CaseResults; `documents`: doc id -> catalog entry with its
    file's `path`), whether the PDF's text of the cited pages holds the quote: at least `floor` of its
    words, in runs (ingest.pdfpage.quote_coverage). Counts, and the citations that fail."""
    from ingest.pdfpage import quote_coverage

    checked, failures = 0, []
    for result in results:
        for cited in result.cited_pages:
            entry = documents.get(cited["doc_id"])
            if entry is None or not cited["quote"] or not str(entry.path).lower().endswith(".pdf"):
                continue
            checked += 1
            coverage = quote_coverage(Path(entry.path), cited["pages"], cited["quote"])
            if coverage < floor:
                failures.append({"case": result.id, **cited, "coverage": round(coverage, 2)})
    return {"checked": checked, "hold_quote": checked - len(failures), "failures": failures}
