"""HTML (BeautifulSoup): the main content only (no navigation, header, footer, scripts or forms)."""

from __future__ import annotations

from ingest.readers.base import Read, decode


def read_html(data: bytes) -> Read:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(decode(data), "html.parser")
    for tag in soup(["script", "style", "noscript", "nav", "footer", "header", "form", "svg", "template"]):
        tag.decompose()
    title = soup.title.get_text(" ", strip=True) if soup.title else None
    body = soup.find("main") or soup.find("article") or soup.body or soup
    lines: list[str] = []
    for el in body.find_all(["h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "tr", "pre", "blockquote", "dt", "dd"]):
        if el.find_parent(["li", "tr", "pre", "blockquote"]) and el.name not in ("tr",):
            continue
        if el.name == "tr":
            cells = [" ".join(c.get_text(" ").split()) for c in el.find_all(["td", "th"])]
            text = " | ".join(c for c in cells if c)
        else:
            text = " ".join(el.get_text(" ").split())
        if not text:
            continue
        if el.name[0] == "h":
            lines.append("#" * int(el.name[1]) + " " + text)
        elif el.name == "li":
            lines.append(f"- {text}")
        else:
            lines.append(text)
    return Read("\n\n".join(lines) + "\n", title=title or None)
