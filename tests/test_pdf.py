"""PDFs read as well as Markdown: the publisher's print of the Buying AI chapters and the Welsh worker-voice
toolkit (English and Welsh), read with their real titles, headings as section paths, bullets as list items,
tables as rows, no running headers or footers, and every page number right."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from conftest import EXTRA, MIRROR

from corpus.records import Passage, Provenance
from ingest.chunker import Chunker
from ingest.pdfpage import quote_coverage, render_page
from ingest.readers import UnreadableFile, read_document, reads_as_title

CHAPTERS = EXTRA / "ocp-buying-ai-pdf"
TOOLKIT = MIRROR / "connected-by-data/toolkit-worker-voice-procurement-wales.pdf"
TOOLKIT_CY = EXTRA / "toolkit-worker-voice-procurement-wales-cy.pdf"

TITLES = {
    "01-introduction.pdf": "Introduction",
    "02-ai-basics.pdf": "AI basics",
    "03-ai-readiness-in-the-public-sector.pdf": "AI readiness in the public sector",
    "04-your-role-as-a-procurement-officer.pdf": "Your role as a procurement officer",
    "05-ai-adoption-myth-busting.pdf": "AI adoption myth-busting",
    "06-ways-to-buy-ai.pdf": "Ways to buy AI",
    "07-hacks-for-better-ai-procurement.pdf": "Hacks for better AI procurement",
    "08-planning-and-procurement-strategy-tips.pdf": "Planning and procurement strategy tips",
    "09-who-to-involve.pdf": "Who to involve",
    "10-solicitation-tip.pdf": "Solicitation tips for AI",
    "11-evaluation-tips.pdf": "Tips for evaluating AI proposals",
    "12-contract-clauses.pdf": "Contract clauses",
    "13-contract-management-tips-roles-and-responsibilities.pdf": "Contract management for AI technology",
    "14-key-questions-to-ask.pdf": "Key questions to ask: Overview",
    "15-case-studies.pdf": "Case studies",
    "16-technical-annex-rfp-questions-and-evaluation.pdf":
        "Technical annex: GenAI requirements and evaluation criteria for cloud service providers",
}
# A few section paths of each document, as the publisher's headings (and bold sub-headings) set them.
SECTIONS = {
    "01-introduction.pdf": ["Introduction > Why we wrote this guidance",
                            "Introduction > Applying these tools in your organization > Insights on AI adoption in the public sector"],
    "02-ai-basics.pdf": ["AI basics > What is AI > Defining artificial intelligence",
                         "AI basics > GenAI Stack > Foundation layer: the model infrastructure",
                         "AI basics > When to consider GenAI and agentic agents > Avoid using GenAI and agentic AI for"],
    "03-ai-readiness-in-the-public-sector.pdf": [
        "AI readiness in the public sector > What an AI-ready organization looks like > Procurement AI-readiness",
        "AI readiness in the public sector > Key questions on AI readiness > Agency or department buyer"],
    "04-your-role-as-a-procurement-officer.pdf": [
        "Your role as a procurement officer > As a procurement official, you have decision-making power around"],
    "05-ai-adoption-myth-busting.pdf": [
        "AI adoption myth-busting > AI adoption myths > Governance myths > Myth: “My organization owns the data that we "
        "use with an AI solution.”"],
    "06-ways-to-buy-ai.pdf": ["Ways to buy AI > Procurement pathways chart"],
    "07-hacks-for-better-ai-procurement.pdf": [
        "Hacks for better AI procurement > What if I’m just buying off-the-shelf AI? > Resources on buying off-the-shelf"],
    "08-planning-and-procurement-strategy-tips.pdf": [
        "Planning and procurement strategy tips > Thinking through your budget > Procurement strategy template",
        "Planning and procurement strategy tips > Planning and procurement strategy tips: Key questions > IT/Data analytics"],
    "09-who-to-involve.pdf": ["Who to involve > Key roles include", "Who to involve > Public participation resources"],
    "10-solicitation-tip.pdf": ["Solicitation tips for AI > Solicitation tips: Key questions > Procurement",
                                "Solicitation tips for AI > Solicitation tips: Key questions > Agency or department buyer"],
    "11-evaluation-tips.pdf": ["Tips for evaluating AI proposals > Best practices by contract method > Innovation procurement"],
    "12-contract-clauses.pdf": ["Contract clauses > Model contract clauses and additional resources",
                                "Contract clauses > Model contract clauses and additional resources > Potential technical "
                                "requirements include"],
    "13-contract-management-tips-roles-and-responsibilities.pdf": [
        "Contract management for AI technology > Contract management: Key questions > IT and data"],
    "14-key-questions-to-ask.pdf": [
        "Key questions to ask: Overview > Solicitation tips: Key questions > Agency or department buyer"],
    "15-case-studies.pdf": ["Case studies > Outcome-driven contracting success in the United States"],
    "16-technical-annex-rfp-questions-and-evaluation.pdf": [TITLES["16-technical-annex-rfp-questions-and-evaluation.pdf"]],
}
TOOLKIT_TITLE = "Toolkit: Worker voice in public sector procurement of digital and AI systems in Wales"
TOOLKIT_CY_TITLE = ("Pecyn Cymorth: Llais y gweithwyr ym maes caffael systemau digidol a deallusrwydd artiffisial yn y "
                    "sector cyhoeddus yng Nghymru")


@pytest.fixture(scope="module")
def documents():
    docs = {path.name: read_document(path, f"pdf/{path.name}") for path in sorted(CHAPTERS.glob("*.pdf"))}
    docs["toolkit"] = read_document(TOOLKIT, "toolkit")
    docs["toolkit-cy"] = read_document(TOOLKIT_CY, "toolkit-cy")
    return docs


def sections(doc) -> set[str]:
    return {chunk.section for chunk in Chunker().split(doc)}


def test_titles_are_the_publishers_not_the_metadata(documents):
    assert {name: documents[name].title for name in TITLES} == TITLES
    assert documents["toolkit"].title == TOOLKIT_TITLE
    assert documents["toolkit-cy"].title == TOOLKIT_CY_TITLE  # not "#OPEN_Toolkit_ ... Welsh translation.docx"


def test_headings_become_section_paths(documents):
    for name, expected in SECTIONS.items():
        found = sections(documents[name])
        assert set(expected) <= found, f"{name}: {sorted(found)}"
        assert all(s.startswith(TITLES[name]) for s in found), name
    assert {f"{TOOLKIT_TITLE} > 2. Tender & award",
            f"{TOOLKIT_TITLE} > Case studies > Case study - Camden’s mission orientated procurement"} <= sections(documents["toolkit"])
    assert f"{TOOLKIT_CY_TITLE} > 1. Cynllunio" in sections(documents["toolkit-cy"])
    assert "Dulliau ymgysylltu â llais y gweithwyr:\n\n" in documents["toolkit-cy"].text  # a column's header leads it


def test_bullets_are_list_items_and_nothing_a_reader_skips_comes_through(documents):
    clauses = documents["12-contract-clauses.pdf"].text
    assert ("### Potential technical requirements include\n\n- Performance, to enable regular assessment of how the "
            "solution is performing in terms of accuracy.\n- Testing and validation,") in clauses
    for name, doc in documents.items():
        assert not re.search(r"[●•■▪]", doc.text), f"{name}: a bullet glyph left in the text"
        assert "None None" not in doc.text and not re.search(r"^None$", doc.text, re.M), name  # code boxes' labels
        assert not re.search(r"^\d{1,3}$", doc.text, re.M), f"{name}: a page number read as text"
    # the chapters whose footers number the pages
    for name in ("03-ai-readiness-in-the-public-sector.pdf", "07-hacks-for-better-ai-procurement.pdf"):
        assert "\n7\n" not in documents[name].text and "\n2\n" not in documents[name].text
    # a paragraph running on over a page break is whole, and the Welsh quote is not cut in two
    assert ("Hype vs reality: While building or customizing AI tech for cutting-edge use cases is getting a lot of hype"
            in documents["01-introduction.pdf"].text)
    assert "helpu sefydliadau i fanteisio ar syniadau, creadigrwydd ac arloesedd.”" in documents["toolkit-cy"].text


def test_tables_read_as_rows_or_under_their_labels(documents):
    questions = documents["10-solicitation-tip.pdf"].text
    assert ("### Procurement\n\nProject needs:\n- How might we reflect the project team’s needs in a RFP?" in questions)
    # a row continued on the next page: its question whole, the page's rows still under their label
    assert ("How will we ensure compliance with current and evolving AI-related legislation, procurement rules, "
            "and standards?") in questions
    template = documents["08-planning-and-procurement-strategy-tips.pdf"].text
    assert "Budget | Your budget for the project, both for upfront costs and ongoing maintenance" in template
    pathways = documents["06-ways-to-buy-ai.pdf"].text
    assert "Pre-built AI applications and tools | Off-the-shelf | Software license |" in pathways
    toolkit = documents["toolkit"].text  # two columns read one after the other, not line by line across
    assert "Worker voice engagement approaches:\n\nCommissioner to ensure worker participation" in toolkit
    assert ("Commissioner to ensure worker participation is built into during market engagement events\n\n"
            "Engage workers and representatives in the setting of detailed specifications, tender questions and weightings."
            ) in toolkit
    assert "Surveys of workers to identify pain What are our priority challenges?" not in toolkit


def test_every_page_starts_where_the_pdf_says(documents):
    paths = {name: CHAPTERS / name for name in TITLES} | {"toolkit": TOOLKIT, "toolkit-cy": TOOLKIT_CY}
    for name, doc in documents.items():
        assert [p for _, p in doc.pages] == sorted({p for _, p in doc.pages}), name
        for offset, page in doc.pages:
            opening = " ".join(re.sub(r"^#+ |^- ", "", doc.text[offset:]).split("\n")[0].split()[:8])
            assert quote_coverage(paths[name], [page], opening) >= 0.99, f"{name} p. {page}: {opening!r}"


def test_a_chunk_across_a_page_break_records_both_pages(documents):
    doc = documents["02-ai-basics.pdf"]
    chunks = Chunker().split(doc)
    spanning = [c for c in chunks if len(c.pages) == 2]
    assert spanning
    for chunk in chunks:
        assert chunk.page == chunk.pages[0] == doc.page_at(chunk.start)
        for page, start in zip(chunk.pages, chunk.page_starts):
            assert doc.page_at(chunk.start + start) == page


def test_a_citation_names_the_page_its_quote_is_on(documents):
    """The issue's case: the quote from the second page of a passage that opens on the first."""
    doc = documents["12-contract-clauses.pdf"]
    start = doc.text.index("It’s also important to remember")
    end = doc.text.index("If compliant with your legal context")
    pages, starts = doc.pages_in(start, end)
    passage = Passage(rank=1, chunk_id="c", doc_id=doc.doc_id, section="Contract clauses", page=pages[0],
                      text=doc.text[start:end], score=1.0, provenance=Provenance(title=doc.title),
                      pages=pages, page_starts=starts)
    assert passage.pages == (1, 2)
    from corpus.records import Citation
    from corpus.text import quote_span

    quote = ("Performance, to enable regular assessment of how the solution is performing in terms of accuracy. "
             "Testing and validation, to enable milestone-based payments tied to testing and acceptance.")
    cite = lambda q: Citation.from_passage(1, passage, quote=q, span=quote_span(passage.text, q))  # noqa: E731
    citation = cite(quote)
    assert (citation.page, citation.pages, citation.page_label) == (2, (2,), "p. 2")
    assert quote_coverage(CHAPTERS / "12-contract-clauses.pdf", [2], quote) == 1.0
    assert quote_coverage(CHAPTERS / "12-contract-clauses.pdf", [1], quote) < 0.5
    opening = cite("It’s also important to remember that contracts are just one aspect of managing risk.")
    assert opening.page == 1
    across = cite("The Center for Inclusive Change’s AI Procurement: Essential "
                  "Considerations in Contracting Additional resources include:")
    assert (across.page, across.page_label) == (1, "pp. 1–2")


def test_the_cited_page_is_drawn_with_the_quote_highlighted():
    from PIL import Image

    path = CHAPTERS / "12-contract-clauses.pdf"
    quote = "Potential technical requirements include: Performance, to enable regular assessment"
    plain, marked = (Image.open(io.BytesIO(render_page(path, 2, q))).convert("RGB") for q in ("", quote))
    assert plain.size == marked.size and plain.size[0] > 800
    changed = [(x, y) for x in range(0, marked.size[0], 4) for y in range(0, marked.size[1], 4)
               if plain.getpixel((x, y)) != marked.getpixel((x, y))]
    assert changed, "nothing highlighted"
    r, g, b = marked.getpixel(changed[len(changed) // 2])
    assert r > 200 and g > 180 and b < 200  # yellow over white
    ys = [y for _, y in changed]
    assert 0.5 < min(ys) / marked.size[1] < 0.75  # the lines in the lower half of the page, where the quote is
    from ingest.pdfpage import PdfError

    with pytest.raises(PdfError):
        render_page(path, 9, quote)


def test_metadata_titles_are_used_only_when_they_read_as_titles(tmp_path):
    assert not reads_as_title("Buying AI guidance #public #webversion")
    assert not reads_as_title("#OPEN_Toolkit_ Worker voice in public sector procurement_Welsh translation.docx")
    assert not reads_as_title("Microsoft Word - policy.doc") and not reads_as_title("Untitled")
    assert reads_as_title("Responsible AI procurement policy 2025")
    import docx

    document = docx.Document()
    document.core_properties.title = "draft-v3.docx"
    document.add_paragraph("Our AI policy", style="Heading 1")
    document.add_paragraph("Staff must log every use of generative AI.")
    document.add_paragraph("Ask the data protection officer first", style="List Bullet")
    table = document.add_table(rows=2, cols=2)
    for (r, c), value in {(0, 0): "Risk", (0, 1): "Owner", (1, 0): "Bias", (1, 1): "Data team"}.items():
        table.cell(r, c).text = value
    document.save(tmp_path / "policy.docx")
    doc = read_document(tmp_path / "policy.docx", "policy")
    assert doc.title == "Our AI policy"
    assert "# Our AI policy" in doc.text and "- Ask the data protection officer first" in doc.text
    assert "Risk | Owner\n\nBias | Data team" in doc.text


def test_bad_pdfs_are_one_line_errors(tmp_path):
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.7\n not a pdf at all \x00\x01")
    with pytest.raises(UnreadableFile, match="corrupt or unreadable PDF"):
        read_document(tmp_path / "broken.pdf", "broken")
    truncated = (CHAPTERS / "09-who-to-involve.pdf").read_bytes()[:3000]
    (tmp_path / "truncated.pdf").write_bytes(truncated)
    with pytest.raises(UnreadableFile):
        read_document(tmp_path / "truncated.pdf", "truncated")


@pytest.fixture(scope="module")
def clauses_assistant(tmp_path_factory, embedder):
    """The issue's run: one PDF ingested on its own, the offline answerer over it."""
    from assistant.factory import build_assistant
    from corpus.settings import Settings
    from index.index import Index
    from index.update import update

    data_dir = tmp_path_factory.mktemp("pdf-index")
    folder = tmp_path_factory.mktemp("pdfs")
    (folder / "12-contract-clauses.pdf").write_bytes((CHAPTERS / "12-contract-clauses.pdf").read_bytes())
    index = Index(data_dir, embedder)
    update(index, [folder], Chunker(count_tokens=embedder.count_tokens))
    return build_assistant(Settings.load(environ={}, data_dir=data_dir), index=index), folder


def test_every_cited_page_holds_its_quote(clauses_assistant):
    assistant, folder = clauses_assistant
    from corpus.records import Scope

    doc_id = f"{folder.name}/12-contract-clauses.pdf"
    questions = ["What are potential technical requirements for an AI contract?",
                 "What model contract clauses exist?", "Is a contract enough to manage risk?",
                 "Should we publish the contract?"]
    cited = 0
    for question in questions:
        answer = assistant.ask(question, scope=Scope.of(doc_ids=[doc_id]))
        for c in answer.citations:
            assert c.pages and c.page == c.pages[0] and c.quote
            assert quote_coverage(folder / "12-contract-clauses.pdf", list(c.pages), c.quote) >= 0.9, (question, c.page)
            cited += 1
        for p in answer.retrieved:
            assert p.pages and p.page == p.pages[0] and p.page_of(0) == p.page
    assert cited >= len(questions)
    data = answer.to_dict()
    assert isinstance(data["citations"][0]["pages"], (list, tuple)) and "page" in data["citations"][0]


def test_the_chat_serves_the_cited_page(clauses_assistant):
    from fastapi.testclient import TestClient

    from assistant.web.app import build_app
    from assistant.web.render import citation_cards
    from corpus.settings import ServerSettings

    assistant, folder = clauses_assistant
    answer = assistant.ask("What are potential technical requirements for an AI contract?")
    cards = citation_cards(answer)
    link = re.search(r'href="(/page/[^"]+)"', cards)
    assert link and f"See page {answer.citations[0].page}" in cards
    client = TestClient(build_app(assistant, ServerSettings(auth="officer:s3cret")))
    url = link.group(1).replace("&amp;", "&")
    assert client.get(url).status_code == 401  # a login like the rest of the chat
    response = client.get(url, auth=("officer", "s3cret"))
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    assert response.content[:8] == b"\x89PNG\r\n\x1a\n"
    doc_id = answer.citations[0].doc_id
    assert client.get(f"/page/{doc_id}/9.png", auth=("officer", "s3cret")).status_code == 404
    assert client.get("/page/../../etc/passwd/1.png", auth=("officer", "s3cret")).status_code == 404
    assert client.get("/page/not-a-doc.pdf/1.png", auth=("officer", "s3cret")).status_code == 404


def write_policy_pdf(path: Path) -> Path:
    """A three-page council policy as a word processor would print it, with no outline: a running header and
    "Page n of 3" footer on every page, headings set large and bold, a bulleted list, a word hyphenated at a
    line end, and a table drawn with ruling lines. Written with PDFium itself."""
    import ctypes

    import pypdfium2 as pdfium
    import pypdfium2.raw as raw

    doc = pdfium.PdfDocument.new()

    def text(page, s, x, y, size=11, font="Helvetica"):
        obj = raw.FPDFPageObj_NewTextObj(doc.raw, font.encode(), ctypes.c_float(size))
        buffer = ctypes.create_string_buffer((s + "\x00").encode("utf-16-le"))
        raw.FPDFText_SetText(obj, ctypes.cast(buffer, ctypes.POINTER(raw.FPDF_WCHAR)))
        raw.FPDFPageObj_Transform(obj, 1, 0, 0, 1, x, y)
        raw.FPDFPage_InsertObject(page.raw, obj)

    def rule(page, x0, y0, x1, y1):
        line = raw.FPDFPageObj_CreateNewPath(ctypes.c_float(x0), ctypes.c_float(y0))
        raw.FPDFPath_LineTo(line, ctypes.c_float(x1), ctypes.c_float(y1))
        raw.FPDFPath_SetDrawMode(line, 0, 1)
        raw.FPDFPage_InsertObject(page.raw, line)

    for n in range(1, 4):
        page = doc.new_page(612, 792)
        text(page, "Council AI policy - internal draft", 72, 760, 9)
        text(page, f"Page {n} of 3", 280, 30, 9)
        y = 700
        if n == 1:
            text(page, "Buying AI in our council", 72, y, 20, "Helvetica-Bold")
            y -= 40
        text(page, ["Why this policy", "Who signs off", "Records"][n - 1], 72, y, 15, "Helvetica-Bold")
        y -= 28
        body = [f"Page {n} of the policy sets out how officers across the whole organi-",
                "zation buy AI tools, so that every purchase is recorded and reviewed by",
                "the organization's data protection officer before any contract is signed."]
        for line in body:
            text(page, line, 72, y)
            y -= 14
        y -= 14
        text(page, "\u2022 Keep a register of AI tools", 90, y)
        text(page, "\u2022 Publish the register every year", 90, y - 14)
        y -= 42
        if n == 2:
            for r, (a, b) in enumerate([("Risk", "Owner"), ("Bias", "Data team"), ("Lock-in", "Procurement")]):
                text(page, a, 80, y - 14 - r * 20)
                text(page, b, 250, y - 14 - r * 20)
            for r in range(4):
                rule(page, 72, y - r * 20, 400, y - r * 20)
            for x in (72, 240, 400):
                rule(page, x, y, x, y - 60)
        page.gen_content()
    doc.save(str(path))
    doc.close()
    return path


def test_a_pdf_without_an_outline_reads_by_its_type(tmp_path):
    doc = read_document(write_policy_pdf(tmp_path / "policy.pdf"), "policy")
    assert doc.title == "Buying AI in our council"
    assert "Council AI policy" not in doc.text and "Page 2 of 3" not in doc.text  # running header and footer
    assert {"Buying AI in our council > Who signs off", "Buying AI in our council > Records"} <= sections(doc)
    assert "across the whole organization buy AI tools" in doc.text  # hyphenated at the line end, joined
    assert "- Keep a register of AI tools\n- Publish the register every year" in doc.text
    assert "Risk | Owner\nBias | Data team\nLock-in | Procurement" in doc.text
    assert [p for _, p in doc.pages] == [1, 2, 3]
    for offset, page in doc.pages:
        assert f"Page {page} of the policy" in doc.text[offset : offset + 200]
