"""DOCX (python-docx): headings by their styles, list paragraphs as `- ` items, tables one row per line."""

from __future__ import annotations

import io
import re
import zipfile

from ingest.readers.base import Read, UnreadableFile


def read_docx(data: bytes) -> Read:
    import docx

    try:
        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise UnreadableFile(f"corrupt or unreadable DOCX ({type(exc).__name__})") from None
    lines: list[str] = []
    for block in document.element.body.iterchildren():
        tag = block.tag.rsplit("}", 1)[-1]
        if tag == "p":
            para = docx.text.paragraph.Paragraph(block, document)
            text = para.text.strip()
            if not text:
                continue
            style = (para.style.name if para.style is not None else "") or ""
            level = re.match(r"(?:Heading|Title)\s*(\d*)", style)
            if level:
                lines.append("#" * min(int(level.group(1) or 1), 6) + " " + text)
            elif "List" in style:
                lines.append(f"- {text}")
            else:
                lines.append(text)
        elif tag == "tbl":
            table = docx.table.Table(block, document)
            for row in table.rows:
                cells = []
                for cell in row.cells:
                    value = " ".join(cell.text.split())
                    if value and (not cells or cells[-1] != value):
                        cells.append(value)
                if cells:
                    lines.append(" | ".join(cells))
    return Read("\n\n".join(lines) + "\n", metadata_title=document.core_properties.title)
