"""The chat and the presenter view in Welsh, walked end to end in a real browser whose language is Welsh
(Debian's Chromium driven by Playwright), over the worker-voice toolkit in both languages."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import urllib.request

import pytest
from conftest import EXTRA, MIRROR, ROOT, serving_deck
from playwright.sync_api import expect
from test_ui_layout import serious_violations

EN_PDF = MIRROR / "connected-by-data/toolkit-worker-voice-procurement-wales.pdf"
CY_PDF = EXTRA / "toolkit-worker-voice-procurement-wales-cy.pdf"
QUESTION = "Sut dylai gweithwyr fod yn rhan o'r gwaith o brofi a mireinio'r system cyn ei defnyddio?"
DECK = f"{QUESTION}\nWho should own the process of making sure worker voices are empowered?\n"


@pytest.fixture(scope="module")
def welsh_server(tmp_path_factory):
    """`procure-ai serve --deck` over the two editions of the toolkit, each ingested as a file on its own."""
    base = tmp_path_factory.mktemp("ui-welsh")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PROCURE_AI_DATA_DIR": str(base / "data")}
    subprocess.run([sys.executable, "-m", "assistant.cli", "ingest", str(EN_PDF), str(CY_PDF)], env=env, check=True,
                   capture_output=True)
    (base / "deck.txt").write_text(DECK, encoding="utf-8")
    with serving_deck(base, env, base / "deck.txt") as url:
        yield url


def test_the_chat_walked_in_welsh(welsh_server, browser):
    context = browser.new_context(locale="cy-GB", viewport={"width": 1280, "height": 720})  # Accept-Language: cy-GB
    page = context.new_page()
    page.goto(welsh_server, wait_until="load")
    box = page.get_by_role("textbox", name="Eich cwestiwn", exact=True)  # labelled in Welsh as the page loads
    box.wait_for(timeout=30_000)
    page.wait_for_function("document.documentElement.lang === 'cy'")
    assert page.title() == "procure-ai: prynu AI, o'r canllawiau"
    assert page.get_by_text("Prynu AI: atebion o ganllawiau cyhoeddus").is_visible()
    for label in ("Chwilio yn", "Dogfen"):
        assert page.get_by_label(label).count() >= 1
    for name in ("Sgwrs newydd", "Lawrlwytho'r sgwrs (Markdown)", "Copïo'r sgwrs (Markdown)", "Gofyn", "English"):
        assert page.get_by_role("button", name=name, exact=True).is_visible(), name
    assert page.get_by_text("Rhowch gynnig ar gwestiwn:").is_visible()
    assert page.locator("#sources").inner_text().startswith("Ffynonellau")
    page.get_by_role("button", name="Copïo'r sgwrs (Markdown)").click()  # nothing to copy yet: said in Welsh
    page.get_by_text("Gofynnwch gwestiwn yn gyntaf: nid oes dim i'w gopïo eto.").wait_for(timeout=10_000)

    # an example question goes into the box in Welsh; then a question of our own is answered in Welsh
    page.get_by_role("button", name="Beth yw rôl undebau llafur wrth gaffael systemau digidol?").click()
    expect(box).to_have_value("Beth yw rôl undebau llafur wrth gaffael systemau digidol?")
    box.fill(QUESTION)
    page.get_by_role("button", name="Gofyn", exact=True).click()
    bot = page.locator("[data-testid='bot']").last
    bot.get_by_role("link", name="[1]").first.wait_for(timeout=60_000)
    page.wait_for_function("() => { const b = [...document.querySelectorAll(\"[data-testid='bot']\")].pop();"
                           " return b && (b.getAttribute('aria-label') || '').startsWith('Ateb: O '); }", timeout=10_000)
    assert bot.inner_text().startswith("O Pecyn Cymorth")  # "From *title*:" in Welsh
    assert "[ffynhonnell 1]" in bot.get_attribute("aria-label")  # read as "[source 1]" in Welsh
    assert page.locator("[data-testid='user']").last.get_attribute("aria-label").startswith("Cwestiwn: ")

    bot.get_by_role("link", name="[1]").first.click()  # its card: in Welsh, with the English edition's page
    card = page.locator(".citation-card.open")
    card.wait_for(timeout=10_000)
    assert card.get_by_role("link", name="Agor y ffynhonnell gyhoeddedig").count() == 1
    assert card.get_by_role("link", name="Gweld tudalen").count() == 1
    where = card.locator(".where").inner_text()
    assert "trwydded: CC BY 4.0" in where and re.search(r", tt?\. \d", where)  # "licence", "p." or "pp." in Welsh
    edition = card.locator("a.edition-link")
    assert edition.inner_text().startswith("Darllen yr adran hon yn Saesneg: ")
    href = edition.get_attribute("href")
    assert href.startswith("/page/connected-by-data/toolkit-worker-voice-procurement-wales.pdf/")
    with urllib.request.urlopen(welsh_server + href, timeout=60) as response:  # the English page, drawn
        assert response.status == 200 and response.read(8) == b"\x89PNG\r\n\x1a\n"
    assert page.locator(".sources-turn summary").first.inner_text().startswith("Ffynonellau ar gyfer cwestiwn 1")
    assert serious_violations(page) == []

    box.fill("   ")  # an empty question: the message is Welsh too
    page.get_by_role("button", name="Gofyn", exact=True).click()
    page.get_by_text("Methu ateb hwn: mae'r cwestiwn yn wag").wait_for(timeout=20_000)
    page.get_by_role("button", name="Copïo'r sgwrs (Markdown)").click()
    page.get_by_text("Copïwyd y sgwrs fel Markdown").wait_for(timeout=10_000)
    markdown = page.locator("#conversation-markdown textarea").input_value()
    assert markdown.startswith("# Cwestiynau am brynu AI, wedi'u hateb o'r canllawiau")

    # the switch: English in place (the conversation stays), then Welsh again; the address keeps the choice
    page.get_by_role("button", name="English", exact=True).click()
    page.get_by_role("textbox", name="Your question", exact=True).wait_for(timeout=10_000)
    page.wait_for_function("document.documentElement.lang === 'en'")
    assert page.url.endswith("?lang=en") and page.get_by_role("button", name="Ask", exact=True).is_visible()
    assert page.locator("#sources").inner_text().startswith("Sources")
    assert page.locator("[data-testid='bot']").count() >= 1
    page.get_by_role("button", name="Cymraeg", exact=True).click()
    page.get_by_role("textbox", name="Eich cwestiwn", exact=True).wait_for(timeout=10_000)
    page.wait_for_function("document.documentElement.lang === 'cy'")
    page.reload(wait_until="load")
    page.get_by_role("textbox", name="Eich cwestiwn", exact=True).wait_for(timeout=30_000)
    context.close()


def test_an_english_browser_gets_english_and_can_ask_for_welsh(welsh_server, browser):
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    page.goto(welsh_server, wait_until="load")
    page.get_by_role("textbox", name="Your question", exact=True).wait_for(timeout=30_000)
    assert page.get_by_role("button", name="Cymraeg", exact=True).is_visible()
    page.goto(welsh_server + "/?lang=cy", wait_until="load")
    page.get_by_role("textbox", name="Eich cwestiwn", exact=True).wait_for(timeout=30_000)
    context.close()


def test_the_presenter_view_in_welsh(welsh_server, browser):
    context = browser.new_context(locale="cy-GB", viewport={"width": 1280, "height": 720})
    page = context.new_page()
    page.goto(welsh_server + "/present", wait_until="load")
    assert page.evaluate("document.documentElement.lang") == "cy" and page.title() == "procure-ai: golwg y cyflwynydd"
    assert page.get_by_role("heading", name="Gwiriad y dec: deck.txt").is_visible()
    assert "2 cwestiwn" in page.locator(".summary").inner_text()
    page.get_by_role("button", name="Nesaf →").click()
    assert page.locator("#position").inner_text() == "Cwestiwn 1 o 2"
    slide = page.locator("#slide-1")
    assert slide.locator(".answer").inner_text().startswith("O Pecyn Cymorth")  # the Welsh question's Welsh answer
    assert slide.locator(".sources h2").inner_text() == "Ffynonellau"
    slide.locator(".answer").get_by_role("button", name="Ffynhonnell 1: Pecyn Cymorth").first.click()
    dialog = page.locator("dialog[open]")
    assert dialog.get_by_role("button", name="Cau (Esc)").is_visible()
    assert "Darllen yr adran hon yn Saesneg" in dialog.inner_text()
    assert serious_violations(page) == []
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Nesaf →").click()
    assert page.locator("#slide-2 .answer").inner_text().startswith("From Toolkit")  # an English question: English
    page.get_by_role("link", name="English", exact=True).click()
    page.get_by_role("button", name="Next →").wait_for(timeout=10_000)
    assert page.evaluate("document.documentElement.lang") == "en"
    context.close()
