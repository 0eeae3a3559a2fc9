"""The PDF twin of the guidance: the mirror with the Buying AI chapters read from the publisher's PDF print
(`corpus-extra/ocp-buying-ai-pdf/`) instead of their Markdown, to measure the PDF reader against the
Markdown one on the same questions.

Each PDF replaces the Markdown chapters it prints (the introduction PDF prints four), keeps their
collection, publisher, URL and licence, and takes its title from what the reader finds in it. A case's
evidence in a replaced chapter is looked for in its PDF. Every run also checks the pages its PDF
citations name (evals/pages.py).
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

from corpus.manifest import MANIFEST_NAME, load_manifest

FOLDER = "ocp-buying-ai-pdf"

# PDF file -> the Markdown chapters of the mirror it prints, in order.
CHAPTERS = {
    "01-introduction.pdf": ["01-insights-on-ai-adoption.md", "02-why-we-wrote-this-guidance.md",
                            "03-who-this-guidance-is-for.md", "04-how-to-use-this-guidance.md"],
    "02-ai-basics.pdf": ["05-ai-basics.md"],
    "03-ai-readiness-in-the-public-sector.pdf": ["06-ai-readiness-in-the-public-sector.md"],
    "04-your-role-as-a-procurement-officer.pdf": ["07-your-role-as-a-procurement-officer.md"],
    "05-ai-adoption-myth-busting.pdf": ["08-ai-adoption-myth-busting.md"],
    "06-ways-to-buy-ai.pdf": ["09-ways-to-buy-ai.md"],
    "07-hacks-for-better-ai-procurement.pdf": ["10-hacks-for-better-ai-procurement.md"],
    "08-planning-and-procurement-strategy-tips.pdf": ["11-planning-and-procurement-strategy-tips.md"],
    "09-who-to-involve.pdf": ["12-who-to-involve.md"],
    "10-solicitation-tip.pdf": ["13-solicitation-tips.md"],
    "11-evaluation-tips.pdf": ["14-evaluation-tips.md"],
    "12-contract-clauses.pdf": ["15-contract-clauses.md"],
    "13-contract-management-tips-roles-and-responsibilities.pdf": ["16-contract-management-tips-roles-and-responsibilities.md"],
    "14-key-questions-to-ask.pdf": ["17-key-questions-to-ask.md"],
    "15-case-studies.pdf": ["18-case-studies.md"],
    "16-technical-annex-rfp-questions-and-evaluation.pdf": ["19-technical-annex-rfp-questions-and-evaluation.md"],
}
MARKDOWN = "ocp-buying-ai"


def doc_map() -> dict[str, str]:
    """Markdown chapter's document id -> its PDF's document id."""
    return {f"{MARKDOWN}/{md}": f"{FOLDER}/{pdf}" for pdf, mds in CHAPTERS.items() for md in mds}


def build(mirror: Path, pdfs: Path, dest: Path) -> Path:
    """Write the twin corpus into `dest` (a folder with its own sources.toml) and return it."""
    from ingest.readers import read_document

    missing = [name for name in CHAPTERS if not (pdfs / name).is_file()]
    if missing:
        raise ValueError(f"the Buying AI PDFs are not all in {pdfs} (missing {', '.join(missing[:3])})")
    manifest = load_manifest(mirror / MANIFEST_NAME)
    replaced = set(doc_map())
    dest.mkdir(parents=True, exist_ok=True)
    entries = []
    for path, source in manifest.items():
        if path in replaced:
            continue
        target = dest / path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(mirror / path, target)
        entries.append(source.to_dict())
    (dest / FOLDER).mkdir(exist_ok=True)
    for name, chapters in CHAPTERS.items():
        shutil.copyfile(pdfs / name, dest / FOLDER / name)
        chapter = manifest[f"{MARKDOWN}/{chapters[0]}"]
        title = read_document(dest / FOLDER / name, f"{FOLDER}/{name}").title  # what the reader finds in it
        entries.append({**chapter.to_dict(), "id": f"{FOLDER}/{name}", "path": f"{FOLDER}/{name}", "title": title,
                        "download": "", "sha256": "", "published": chapter.published})
    (dest / MANIFEST_NAME).write_text("".join(_entry(e) for e in entries), encoding="utf-8")
    return dest


def _entry(values: dict) -> str:
    keys = ("id", "path", "collection", "title", "publisher", "url", "license", "published")
    lines = [f"{k} = {_toml(str(values[k]))}" for k in keys if values.get(k)]
    return "[[document]]\n" + "\n".join(lines) + "\n\n"


def _toml(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def remap(cases: list) -> list:
    """The cases with evidence in a replaced chapter pointed at its PDF."""
    mapping = doc_map()
    return [replace(c, evidence_docs=[mapping.get(d, d) for d in c.evidence_docs]) for c in cases]
