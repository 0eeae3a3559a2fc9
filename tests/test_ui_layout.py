"""The chat and the presenter view at the sizes people use them (a laptop or projector at 1280x720, 1366x768,
1920x1080, a phone at 390x844) in Debian's Chromium: what matters is in the window, the highlight is in view
when a passage opens, nothing scrolls sideways, one font renders every letter, and axe-core finds nothing
serious. Screenshots of each size go to artifacts/screenshots/."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import unicodedata

import pytest
from conftest import EXTRA, MIRROR, ROOT, serving_deck, write_corpus

SCREENSHOTS = ROOT / "artifacts" / "screenshots"
AXE = ROOT / "tests" / "node_modules" / "axe-core" / "axe.min.js"
SIZES = [(1280, 720), (1366, 768), (1920, 1080), (390, 844)]
WIDE = 760  # below this the chat is one column and the page scrolls

# A long section whose answer quotes its last sentence: the highlight starts far below the passage's top.
EXIT = """# Planning the exit

Every contract for an AI service ends one day, and the time to plan for that day is before anyone signs. A team that
waits until the last quarter of a contract finds that the vendor holds the knowledge, the configuration and the
history of how the service was run, and that nobody inside the organisation can say what a replacement would need.

Start from the service as residents and staff meet it. Write down what the service does each week, which teams rely
on its outputs, and which decisions it informs. Then list what would have to be true for another supplier, or an
in-house team, to run the same service the morning after the contract ends.

Budget for the change. Running two services side by side for a few weeks costs money, and so does moving records
between systems, retraining staff and telling residents what changes for them. A business case that leaves these
costs out will make the incumbent look cheaper than it is.

Keep the plan alive. Review it at each contract review meeting, update it when the service changes, and test a part
of it every year, for instance by asking the vendor to export one month of records in the agreed format and loading
them into a spare system.

The exit plan should include:

- A list of every data set the vendor holds for you, with its format and size.
- The documents a new supplier would need to run the service.
- Who signs off the final transfer, and by when.

| **Role** | **Exit tasks** |
| --- | --- |
| **Contract manager** | **Before signing** \\- Agree an exit timetable with the vendor. \\- Name who approves the final transfer. **At the end** \\- Check that every data set came back. |
| **IT lead** | \\- Test that the returned records load in the replacement system. |

The escrow agent must release the source code within ten working days of the vendor's insolvency.
"""
SOURCES = """
[[document]]
path = "exit.md"
title = "Planning the exit"
publisher = "Test Publisher"
collection = "Exit Guide"
url = "https://example.org/exit"
license = "CC BY 4.0"

[[document]]
path = "solicitation.md"
title = "Solicitation tips for AI"
publisher = "Open Contracting Partnership"
collection = "Buying AI: Tips and tools for public procurement"
url = "https://buyingai.open-contracting.org/chapter/13-solicitation-tips"
license = "CC BY 4.0"
"""
DEEP = "When must the escrow agent release the source code?"
TABLE = "Who approves the final transfer when the contract ends?"
DECK = f"{DEEP}\n{TABLE}\nWhat questions should procurement ask about project needs in a solicitation?\n"

AXE_SERIOUS = """async () => {
  const result = await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa',
    'wcag22a', 'wcag22aa', 'best-practice']}, resultTypes: ['violations']});
  return result.violations.filter(v => ['serious', 'critical'].includes(v.impact))
    .map(v => v.id + ': ' + v.help + ' at ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', '));
}"""

# Is `el` (or its first line) inside the window, and inside each scrolling box around it?
IN_VIEW = """(el) => {
  const r = el.getBoundingClientRect(), top = r.top, bottom = Math.min(r.bottom, r.top + 24);
  if (!r.width || top < 0 || bottom > window.innerHeight + 0.5 || r.left < -0.5 || r.right > window.innerWidth + 0.5) return false;
  for (let box = el.parentElement; box; box = box.parentElement) {
    const s = getComputedStyle(box);
    if (!['auto', 'scroll', 'hidden'].includes(s.overflowY) || box === document.body || box === document.documentElement) continue;
    const b = box.getBoundingClientRect();
    if (top < b.top - 0.5 || bottom > b.bottom + 0.5) return false;
  }
  return true;
}"""
NO_SIDEWAYS = "document.documentElement.scrollWidth <= document.documentElement.clientWidth"


@pytest.fixture(scope="module")
def layout_server(tmp_path_factory):
    """`procure-ai serve --deck` over a made-up long section (list, table, a quote at its end) and the real
    solicitation chapter of the mirror (tables of questions)."""
    base = tmp_path_factory.mktemp("layout")
    corpus = write_corpus(base / "corpus", {"sources.toml": SOURCES, "exit.md": EXIT})
    shutil.copy(MIRROR / "ocp-buying-ai" / "13-solicitation-tips.md", corpus / "solicitation.md")
    (base / "deck.txt").write_text(DECK, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PROCURE_AI_DATA_DIR": str(base / "data")}
    subprocess.run([sys.executable, "-m", "assistant.cli", "ingest", str(corpus)], env=env, check=True, capture_output=True)
    with serving_deck(base, env, base / "deck.txt") as url:
        yield url


def serious_violations(page) -> list[str]:
    """axe-core's serious and critical WCAG 2.2 A/AA and best-practice violations on the page as it is now."""
    assert AXE.exists(), f"axe-core is not installed at {AXE}: run `npm ci --prefix tests` (scripts/test.sh does)"
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    return page.evaluate(AXE_SERIOUS)


def in_view(page, selector: str) -> bool:
    return page.locator(selector).first.evaluate(IN_VIEW)


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name))


def ask(page, question: str, answers: int) -> None:
    box = page.get_by_label("Your question")
    box.fill(question)
    box.press("Enter")
    page.wait_for_function(f"document.querySelectorAll(\"[data-testid='bot']\").length == {answers} && "
                           "document.querySelector('[role=log]').getAttribute('aria-busy') === 'false' && "
                           f"document.querySelectorAll('.sources-turn').length == {answers}", timeout=60_000)
    page.wait_for_timeout(300)  # the panes settle (chat.js runs on the next frame)


@pytest.mark.parametrize("width,height", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_chat_question_answer_and_card_fit_the_window(layout_server, browser, width, height):
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(layout_server, wait_until="load")
    assert in_view(page, "textarea") and in_view(page, "#ask-button"), "the question box loads below the fold"
    assert page.evaluate(NO_SIDEWAYS)
    assert not serious_violations(page)
    ask(page, DEEP, 1)
    # the question and the start of its answer are in the conversation pane, with the question box
    assert in_view(page, "[data-testid='user']") and in_view(page, "[data-testid='bot'] .message-content")
    bot = page.locator("[data-testid='bot']").last
    label = bot.get_attribute("aria-label")
    assert "[source 1]" in label and "](#citation" not in label and "[[" not in label, label  # read as words
    bot.get_by_role("link", name="[1]").first.click()
    page.wait_for_function("document.activeElement && document.activeElement.id === 'citation-1-1'", timeout=5_000)
    card = "#citation-1-1"
    assert in_view(page, f"{card} h3"), "the card a citation opens is out of sight"
    assert in_view(page, f"{card} mark"), "the highlight is outside the passage's visible part"
    assert any(t.startswith("The escrow agent must release") for t in page.locator(f"{card} mark").all_inner_texts())
    if width > WIDE:  # question box, answer and card together, without scrolling the page
        assert page.evaluate("window.scrollY") == 0
        assert in_view(page, "textarea") and in_view(page, "#ask-button") and in_view(page, "[data-testid='bot'] .message-content")
    assert page.evaluate(NO_SIDEWAYS)
    assert not serious_violations(page)
    shot(page, f"chat-{width}x{height}.png")
    page.close()


def test_the_sources_pane_follows_the_answer_being_read(layout_server, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    page.goto(layout_server, wait_until="load")
    ask(page, DEEP, 1)
    ask(page, TABLE, 2)
    assert in_view(page, "[data-testid='user'] >> nth=1")  # the new question is brought to the top of its pane
    assert in_view(page, "#sources-turn-2 summary") and page.locator("#sources-turn-2").get_attribute("open") is not None
    page.locator("#chat [role=log]").evaluate("log => log.scrollTop = 0")  # back to the first answer
    page.wait_for_function("document.getElementById('sources-turn-1').open", timeout=5_000)
    page.wait_for_timeout(200)
    assert in_view(page, "#sources-turn-1 summary") and in_view(page, "#citation-1-1 h3")
    page.locator("#chat [role=log]").evaluate("log => log.scrollTop = log.scrollHeight")
    page.wait_for_timeout(300)
    assert in_view(page, "#sources-turn-2 summary")
    page.close()


def test_passages_show_lists_and_tables_as_the_document_does(layout_server, browser):
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    page.goto(layout_server, wait_until="load")
    ask(page, TABLE, 1)
    card = page.locator("#citation-1-1")
    table = card.locator(".passage table")
    assert table.locator("thead th").all_inner_texts() == ["Role", "Exit tasks"]
    assert table.locator("tbody th").all_inner_texts() == ["Contract manager", "IT lead"]
    cell = table.locator("tbody tr").first.locator("td")
    assert cell.locator(".cell-label").all_inner_texts() == ["Before signing", "At the end"]
    assert cell.locator("li").first.inner_text() == "Agree an exit timetable with the vendor."
    assert card.locator(".passage > ul li").count() == 3  # the list, as a list
    text = card.locator(".passage").inner_text()
    assert " | " not in text and "\n- " not in text and "**" not in text  # no Markdown or pipes left showing
    assert card.locator(".passage mark").count() >= 2  # quoted sentences from the list and the table are highlighted
    page.close()


@pytest.mark.parametrize("width,height", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_presenter_slide_and_passage_fit_the_window(layout_server, browser, width, height):
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(layout_server + "/present#1", wait_until="load")
    for selector in ["#next", "#prev", "#slide-1 h1", "#slide-1 .answer p"]:
        assert in_view(page, selector), selector
    if width > WIDE:
        assert in_view(page, "#slide-1 .sources .cite")  # the sources beside the answer
    assert page.evaluate(NO_SIDEWAYS)
    assert not serious_violations(page)
    shot(page, f"presenter-{width}x{height}.png")
    page.locator("#slide-1 .answer .cite").first.click()
    dialog = page.locator("dialog[open]")
    assert any(t.startswith("The escrow agent must release") for t in dialog.locator("mark").all_inner_texts())
    assert in_view(page, "dialog[open] mark"), "the highlighted quote is below the fold"
    assert in_view(page, "dialog[open] .passage-bar h2") and in_view(page, "dialog[open] .close")  # title and Close stay
    assert dialog.evaluate("d => d.scrollWidth <= d.clientWidth")
    assert not serious_violations(page)
    shot(page, f"presenter-passage-{width}x{height}.png")
    page.keyboard.press("Escape")
    page.goto(layout_server + "/present#2", wait_until="load")  # the answer from the table of exit tasks
    cites = page.locator("#slide-2 .sources .cite")
    tables = 0
    for i in range(cites.count()):  # the sources the answer cites; the one from the table is drawn as a table
        cites.nth(i).click()
        if page.locator("dialog[open] .passage-table th").count() >= 2:
            tables += 1
            assert in_view(page, "dialog[open] mark")
            assert page.locator("dialog[open]").evaluate("d => d.scrollWidth <= d.clientWidth")
        page.keyboard.press("Escape")
    assert tables
    page.close()


LONGEST = """() => [...document.querySelectorAll('.slide .answer')].map(a => a.querySelectorAll('p, li').length)"""


@pytest.mark.parametrize("width,height", [s for s in SIZES if s[0] > WIDE], ids=[f"{w}x{h}" for w, h in SIZES if w > WIDE])
def test_every_presenter_slide_fits_below_its_question(layout_server, browser, width, height):
    """A long answer is set smaller, its sources too, and what still does not fit scrolls in its own column:
    the page itself never scrolls, the bar and the question stay in view, the type stays projector-sized."""
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(layout_server + "/present#1", wait_until="load")
    lines = page.evaluate(LONGEST)
    assert max(lines) >= 6, lines  # the deck has an answer too long for one 720-pixel slide at full size
    shrunk = 0
    for n in range(1, len(lines) + 1):
        page.goto(layout_server + f"/present#{n}", wait_until="load")
        page.wait_for_timeout(200)
        slide = f"#slide-{n}"
        assert page.evaluate("document.documentElement.scrollHeight <= window.innerHeight + 1"), n
        assert in_view(page, "#next") and in_view(page, f"{slide} h1")
        size = page.evaluate(f"parseFloat(getComputedStyle(document.querySelector('{slide} .answer')).fontSize)")
        assert size >= 20, (n, size)
        shrunk += size < 30
        last = page.locator(f"{slide} .answer").locator("p, li").last
        last.scroll_into_view_if_needed()
        assert last.evaluate(IN_VIEW), n  # the answer's end can be scrolled to inside its column
        assert in_view(page, f"{slide} h1")  # and the question stays
    if height <= 720:
        assert shrunk, "no slide was set smaller at 720 pixels high"
    shot(page, f"presenter-long-answer-{width}x{height}.png")
    page.close()


def fonts_of(page, cdp, selector: str) -> set[tuple[str, bool]]:
    """(family, is a web font) of every font Chromium used to draw the text of each element matching `selector`."""
    root = cdp.send("DOM.getDocument", {"depth": -1})["root"]["nodeId"]
    used = set()
    for node in cdp.send("DOM.querySelectorAll", {"nodeId": root, "selector": selector})["nodeIds"]:
        for font in cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]:
            used.add((font["familyName"], font["isCustomFont"]))
    assert used, f"no text drawn for {selector}"
    return used


def corpus_characters() -> str:
    """Every character of the guidance mirror (text files and the PDFs' text), emoji and controls left out."""
    import pypdfium2 as pdfium

    chars = set()
    for path in [*MIRROR.rglob("*"), *EXTRA.rglob("*.pdf")]:
        if path.suffix in {".md", ".csv", ".html", ".txt"}:
            chars.update(path.read_text(encoding="utf-8"))
        elif path.suffix == ".pdf":
            pdf = pdfium.PdfDocument(str(path))
            chars.update("".join(page.get_textpage().get_text_range() for page in pdf))
    return "".join(sorted(c for c in chars if not c.isspace() and ord(c) <= 0xFFFF
                          and unicodedata.category(c) not in {"Cc", "Cf", "Co", "Cs", "Mn"}))


def test_one_served_font_renders_every_letter(layout_server, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(layout_server, wait_until="load")
    ask(page, TABLE, 1)
    page.evaluate("""(text) => { const probe = document.createElement('p'); probe.id = 'glyph-probe';
                     probe.textContent = text; document.querySelector('#sources').append(probe);
                     const bold = probe.cloneNode(true); bold.id = 'glyph-probe-bold'; bold.style.fontWeight = '700';
                     document.querySelector('#sources').append(bold); }""", corpus_characters())
    page.evaluate("document.fonts.ready.then(() => true)")
    cdp = context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    ours = {("DejaVu Sans", True)}
    for selector in ["h1", "#ask-button", "[data-testid='bot'] li", ".citation-card h3", ".citation-card .passage li",
                     ".passage-table th", "#glyph-probe", "#glyph-probe-bold"]:
        assert fonts_of(page, cdp, selector) == ours, selector  # no letter falls back to another font
    page.goto(layout_server + "/present#2", wait_until="load")
    page.evaluate("document.fonts.ready.then(() => true)")
    for selector in ["#slide-2 h1", "#slide-2 .answer li", "#next"]:
        assert fonts_of(page, cdp, selector) == ours, selector
    assert any(u.endswith("/fonts/DejaVuSans.woff") for u in requests) and any(u.endswith("/fonts/DejaVuSans-Bold.woff") for u in requests)
    assert all(u.startswith(layout_server) or u.startswith(("data:", "blob:")) for u in requests), requests  # nothing from outside
    context.close()
