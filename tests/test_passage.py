"""A cited passage shown as its document shows it (assistant/web/passage.py): lists, tables and headings rebuilt
from the stored text, the quoted sentences marked, everything escaped. Real chapters of the mirror where they
have the structure; made-up text where a case needs it."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup
from conftest import MIRROR

from assistant.web.passage import passage_blocks, quoted_spans
from ingest.clean import clean_markdown


def soup(text: str, quotes=(), heading_level: int = 4) -> BeautifulSoup:
    return BeautifulSoup(passage_blocks(text, quotes, heading_level), "html.parser")


@pytest.fixture(scope="module")
def solicitation() -> str:
    """The solicitation chapter's table of key questions, as ingest stores it."""
    text = clean_markdown((MIRROR / "ocp-buying-ai" / "13-solicitation-tips.md").read_text(encoding="utf-8"))
    return text[text.index("Solicitation tips: Key questions"):]


def test_a_table_of_questions_is_a_table_with_its_lists(solicitation):
    page = soup(solicitation, ["Procurement | Project needs - How might we reflect the project team’s needs in a RFP?"])
    table = page.find("table")
    assert [th.get_text() for th in table.select("thead th")] == ["Team", "Questions"]
    assert [th.get_text() for th in table.select("tbody th")] == ["Procurement", "Agency or department buyer", "IT/Data analytics"]
    procurement = table.select("tbody tr")[0].find("td")
    assert [p.get_text() for p in procurement.select(".cell-label")] == [
        "Project needs", "Operational considerations", "Risk and compliance"]
    assert procurement.find("li").get_text() == "How might we reflect the project team’s needs in a RFP?"
    assert len(procurement.select("li")) == 10
    assert " | " not in page.get_text() and " - How" not in page.get_text()
    # the quote spans the row's header, the cell's label and its first item: each piece is marked
    assert [m.get_text() for m in page.find_all("mark")] == [
        "Procurement", "Project needs", "How might we reflect the project team’s needs in a RFP?"]


def test_a_placeholder_row_is_its_own_cell():
    text = clean_markdown((MIRROR / "p4ai" / "principles-v1.md").read_text(encoding="utf-8"))
    start = text.index("### Principle 1: Purpose")
    page = soup(text[start:text.index("### Principle 2", start)], heading_level=3)
    assert page.find("h3").get_text() == "Principle 1: Purpose"
    assert [th.get_text() for th in page.select("thead th")] == ["Standards", "Supporting resources"]
    cells = [td.get_text() for td in page.select("tbody td")]
    assert cells[-1] == "Suggest resources or case studies in support of this principle here."
    assert cells[0].startswith("We have clearly stated the problem")


def test_lists_headings_and_paragraphs():
    text = ("## Who to involve\n- Who: Procurement teams\n- What: Key stakeholders\n\nProcuring AI needs a team\n"
            "across the organisation.\n\n### Key roles include\n• Procurement officer, who leads.\n"
            "• Legal officer, who checks.\n\n1. Plan\n2. Buy\n")
    page = soup(text)
    assert [(h.name, h.get_text()) for h in page.find_all(["h4", "h5"])] == [("h4", "Who to involve"), ("h5", "Key roles include")]
    assert [li.get_text() for li in page.find_all("ul")[0].find_all("li")] == ["Who: Procurement teams", "What: Key stakeholders"]
    assert page.find("p").get_text() == "Procuring AI needs a team across the organisation."  # a soft line break
    assert [li.get_text() for li in page.find("ol").find_all("li")] == ["Plan", "Buy"]
    assert "•" not in page.get_text() and "#" not in page.get_text()


def test_an_item_name_is_marked_in_its_list_not_in_the_prose_before_it():
    text = "Ask the Legal officer early.\n\n- Procurement officer, who leads.\n- Legal officer, who checks.\n"
    page = soup(text, ["Key roles include", "Legal officer"])
    assert page.find("mark").parent.name == "li" and page.find("mark").get_text() == "Legal officer"


def test_document_text_is_escaped_and_marks_stay_whole():
    text = 'A vendor wrote <img src=x onerror="alert(1)"> & more.\n\nData | <b>Owner</b>\nLogs | "Us" & them\n'
    html = passage_blocks(text, ['A vendor wrote <img src=x onerror="alert(1)"> & more.'])
    assert "<img" not in html and "<b>" not in html
    assert "<mark>A vendor wrote &lt;img src=x onerror=&quot;alert(1)&quot;&gt; &amp; more.</mark>" in html
    assert BeautifulSoup(html, "html.parser").find("table") is not None


def test_a_paraphrase_marks_the_closest_sentence_and_a_stranger_marks_nothing():
    text = "Plan the exit before you sign. The escrow agent must release the source code within ten days of insolvency."
    (start, end), = quoted_spans(text, ["Within ten days of the vendor's insolvency the escrow agent releases the code."])
    assert text[start:end].startswith("The escrow agent must release")
    assert quoted_spans(text, ["Penalties apply to late invoices under the framework."]) == []
