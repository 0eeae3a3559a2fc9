"""Cleaning removes what a reader would not see; chunks keep structure, offsets and the model's window."""

from __future__ import annotations

from conftest import MIRROR, EXTRA

from ingest.chunker import Chunker
from ingest.clean import clean_markdown
from ingest.readers import read_document


def test_clean_markdown_drops_markup_but_keeps_words():
    raw = (
        "---\ntitle: X\n---\n# *Heading* {#anchor}\n\n<!-- hidden -->\n"
        "Text with [a link](https://x.org) and **bold**.\n\n"
        "![][image1]\n\n[image1]: <data:image/png;base64,iVBORw0KGgoAAAANSUhEUg==>\n\n"
        "See {{site.baseurl}}/file.\n\n#### **Tips {.collapsible}**\n\n"
        "| **Team** | **Questions** |\n| :---- | :---- |\n| Procurement | \\- Is it fair? |\n"
    )
    text = clean_markdown(raw)
    for gone in ("title: X", "hidden", "base64", "iVBOR", "{{", "{.collapsible}", "{#anchor}", "**", "](", ":----"):
        assert gone not in text
    assert "# Heading" in text
    assert "Text with a link and bold." in text
    assert "#### Tips" in text
    assert "Team | Questions" in text and "Procurement | - Is it fair?" in text


def test_mirror_chapter_with_inline_image_is_clean(embedder):
    doc = read_document(MIRROR / "ocp-buying-ai/18-case-studies.md", "cs")
    assert "base64" not in doc.text and "data:image" not in doc.text
    assert len(doc.text) < 20_000  # the raw file carries a large inline PNG


def test_chunks_have_heading_paths_offsets_and_fit_the_window(embedder):
    doc = read_document(MIRROR / "ocp-buying-ai/12-who-to-involve.md", "who")
    chunks = Chunker(max_tokens=200, count_tokens=embedder.count_tokens).split(doc)
    assert any(c.section == "Who to involve > Key roles include" for c in chunks)
    for chunk in chunks:
        assert doc.text[chunk.start : chunk.end] == chunk.text
        assert embedder.count_tokens(chunk.embedding_text()) <= embedder.max_tokens
    assert len({c.chunk_id for c in chunks}) == len(chunks)


def test_every_mirror_chunk_fits_the_model_window(embedder):
    chunker = Chunker(max_tokens=200, count_tokens=embedder.count_tokens)
    too_long = []
    for path in sorted(MIRROR.rglob("*")):
        if path.suffix not in (".md", ".csv", ".pdf"):
            continue
        doc = read_document(path, path.name)
        for chunk in chunker.split(doc):
            assert doc.text[chunk.start : chunk.end] == chunk.text
            if embedder.count_tokens(chunk.embedding_text()) > embedder.max_tokens:
                too_long.append((path.name, chunk.section))
    assert too_long == []


def test_glossary_becomes_one_chunk_per_term(embedder):
    doc = read_document(MIRROR / "ocp-buying-ai/glossary.csv", "glossary")
    chunks = Chunker(count_tokens=embedder.count_tokens).split(doc)
    rows = (MIRROR / "ocp-buying-ai/glossary.csv").read_text(encoding="utf-8").count("\n")
    assert len(chunks) >= rows - 2
    bias = [c for c in chunks if c.section == "Bias"]
    assert len(bias) == 1 and bias[0].text.startswith("Has two meanings")


def test_pdf_chunks_know_their_page(embedder):
    doc = read_document(EXTRA / "ocp-buying-ai-pdf/09-who-to-involve.pdf", "who-pdf")
    chunks = Chunker(count_tokens=embedder.count_tokens).split(doc)
    pages = {c.page for c in chunks}
    assert None not in pages and len(pages) >= 2
    for chunk in chunks:
        assert doc.page_at(chunk.start) == chunk.page


def test_chunk_ids_are_stable_across_runs(embedder):
    path = MIRROR / "p4ai/principles-v1.md"
    chunker = Chunker(count_tokens=embedder.count_tokens)
    first = [c.chunk_id for c in chunker.split(read_document(path, "p"))]
    second = [c.chunk_id for c in chunker.split(read_document(path, "p"))]
    assert first == second
