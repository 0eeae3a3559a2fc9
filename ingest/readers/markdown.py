"""Markdown and plain text."""

from __future__ import annotations

import re

from ingest.clean import clean_markdown, front_matter_title
from ingest.readers.base import Read, decode


def read_markdown(data: bytes) -> Read:
    raw = decode(data)
    return Read(clean_markdown(raw), title=front_matter_title(raw))


def read_plain(data: bytes) -> Read:
    raw = decode(data).replace("\r\n", "\n")
    text = re.sub(r"[ \t]+", " ", raw).strip() + "\n"
    first = next((line.strip() for line in text.splitlines() if line.strip()), None)
    return Read(text, title=first[:120] if first else None)
