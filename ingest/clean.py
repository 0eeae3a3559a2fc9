"""Cleans Markdown to what a reader sees: no front matter, markup, templates or inline images.

Headings stay as `#` lines (the chunker reads structure from them); a line that
is bold and nothing else ("**Key roles include:**") becomes a sub-heading.
Tables become one readable line per row. Fenced blocks are the site's call-out
boxes of prose, so their text is kept as Markdown.
"""

from __future__ import annotations

import re

from corpus.text import inline

_FRONT_MATTER = re.compile(r"\A\ufeff?---\s*\n(.*?)\n---\s*(\n|\Z)", re.S)
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_DATA_IMAGE_REF = re.compile(r"^\s*\[[^\]]+\]:\s*<?data:[^\s>]+>?\s*$", re.M)
_DATA_URI = re.compile(r"data:[a-z]+/[a-z0-9.+-]+;base64,[A-Za-z0-9+/=\s]+")
_TEMPLATE = re.compile(r"\{\{.*?\}\}|\{%.*?%\}")
_ATTRS = re.compile(r"\s*\{\s*[.#][^{}\n]*\}")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_BOLD_LINE = re.compile(r"^\s*(\*\*|__)([^*_].{0,120}?)\1\s*:?\s*$")
_TABLE_SEP = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")


def front_matter_title(text: str) -> str | None:
    """The `title:` of YAML front matter, if there is one."""
    match = _FRONT_MATTER.match(text)
    if not match:
        return None
    for line in match.group(1).splitlines():
        if line.lower().startswith("title:"):
            return line.split(":", 1)[1].strip().strip("\"'") or None
    return None


def _table_row(line: str) -> str:
    cells = [inline(cell) for cell in line.strip().strip("|").split("|")]
    return " | ".join(cell for cell in cells if cell)


def clean_markdown(text: str) -> str:
    """Return the readable text of a Markdown file (see the module docstring)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _FRONT_MATTER.sub("", text, count=1)
    text = _COMMENT.sub("", text)
    text = _DATA_IMAGE_REF.sub("", text)
    text = _DATA_URI.sub("", text)
    text = _TEMPLATE.sub("", text)
    out: list[str] = []
    level = 1
    fence_header = False  # inside the `---` key: value header of a fenced call-out box
    just_opened = False
    for raw in text.split("\n"):
        # The guidance uses ``` fences for call-out boxes of ordinary prose, sometimes
        # with a small YAML header (icon, background): keep the prose, drop the header.
        if _FENCE.match(raw):
            out.append("")
            just_opened = True
            continue
        if just_opened and raw.strip() == "---":
            fence_header, just_opened = True, False
            continue
        just_opened = False
        if fence_header:
            fence_header = raw.strip() != "---"
            continue
        line = _ATTRS.sub("", raw)
        heading = _HEADING.match(line)
        bold = _BOLD_LINE.match(line)
        if heading:
            level = len(heading.group(1))
            title = inline(heading.group(2)).rstrip(":")
            out.append(f"{heading.group(1)} {title}" if title else "")
        elif bold:
            out.append(f"{'#' * min(level + 1, 6)} {inline(bold.group(2)).rstrip(':')}")
        elif _TABLE_SEP.match(line):
            continue
        elif line.lstrip().startswith("|"):
            out.append(_table_row(line))
        else:
            stripped = line.strip()
            bullet = re.match(r"^([*+-]|\d+[.)])\s+", stripped)
            if bullet:
                marker = "-" if bullet.group(1) in "*+-" else bullet.group(1)
                out.append(f"{marker} {inline(stripped[bullet.end():])}")
            else:
                out.append(inline(stripped))
    cleaned = "\n".join(out)
    cleaned = re.sub(r"\n{3,}", "\n\n", cleaned)
    return cleaned.strip() + "\n"
