"""Splits a cleaned document by its structure into chunks that fit the embedding window.

A chunk never crosses a heading; it packs whole paragraphs, list items and table
rows up to `max_tokens`, and splits a block that is too long at sentence (then
word) boundaries. Every chunk records its heading path, its offsets in the
cleaned text and, for a PDF, the pages it is on (a paragraph that runs on over a
page break stays whole, its chunk on both pages), so a citation can point at the
exact passage and page.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from corpus.records import Chunk, Document, chunk_id
from corpus.settings import IngestSettings
from corpus.text import sentence_spans

TokenCounter = Callable[[str], int]
_HEADING = re.compile(r"^(#{1,6}) (.+)$", re.M)
_BLOCK_BREAK = re.compile(r"\n\s*\n")


def estimate_tokens(text: str) -> int:
    """A fast, slightly pessimistic word-piece count (about 1.3 per word)."""
    return int(len(text.split()) * 1.35) + 2


@dataclass(frozen=True)
class Chunker:
    """Structure-aware splitter; `count_tokens` should be the embedder's tokenizer."""

    max_tokens: int = IngestSettings.chunk_tokens
    count_tokens: TokenCounter = estimate_tokens

    def signature(self) -> dict:
        """What of the splitter, if changed, makes every chunk id stale."""
        return {"max_tokens": self.max_tokens, "version": 2}  # 2: chunks run over page breaks and know their pages

    def split(self, doc: Document) -> list[Chunk]:
        spans = []
        for start, end, path in self._sections(doc):
            for s, e in self._pack(doc.text, start, end, doc):
                spans.append((s, e, path))
        chunks: list[Chunk] = []
        seen: dict[tuple[str, str], int] = {}
        previous_end = None
        for s, e, path in spans:
            text = doc.text[s:e]
            gap = doc.text[previous_end:s] if previous_end is not None else ""
            previous_end = e
            key = (path, text)
            occurrence = seen.get(key, 0)
            seen[key] = occurrence + 1
            pages, page_starts = doc.pages_in(s, e)
            chunks.append(
                Chunk(
                    chunk_id=chunk_id(doc.doc_id, path, text, occurrence),
                    doc_id=doc.doc_id,
                    text=text,
                    section=path,
                    start=s,
                    end=e,
                    provenance=doc.provenance,
                    page=doc.page_at(s),
                    gap=gap,
                    pages=pages,
                    page_starts=page_starts,
                )
            )
        return chunks

    def _sections(self, doc: Document):
        """Yield (start, end, heading path) for the body under each heading."""
        text = doc.text
        stack: list[tuple[int, str]] = []
        cuts = [(m.start(), m.end(), len(m.group(1)), m.group(2).strip()) for m in _HEADING.finditer(text)]
        boundaries = []
        body_start, path = 0, ""
        for h_start, h_end, level, title in cuts:
            boundaries.append((body_start, h_start, path))
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, title))
            path = " > ".join(t for _, t in stack)
            body_start = h_end
        boundaries.append((body_start, len(text), path))
        for start, end, section in boundaries:
            if text[start:end].strip():
                yield start, end, section

    def _pack(self, text: str, start: int, end: int, doc: Document):
        """Greedy packing of blocks between start and end into spans under the budget."""
        pieces: list[tuple[int, int, int]] = []  # (start, end, tokens)
        cursor = start
        for match in [*_BLOCK_BREAK.finditer(text, start, end), None]:
            b_end = match.start() if match else end
            s, e = _strip(text, cursor, b_end)
            if e > s:
                pieces.extend(self._fit(text, s, e))
            cursor = match.end() if match else end
        # Balance the parts: a section of 1.2 budgets becomes two of 0.6, not 1.0 + 0.2.
        parts = -(-sum(p[2] for p in pieces) // self.max_tokens)
        budget = min(self.max_tokens, int(sum(p[2] for p in pieces) / max(parts, 1) * 1.15) + 1)
        current: list[tuple[int, int, int]] = []
        total = 0
        for piece in pieces:
            if current and total + piece[2] > budget:
                yield current[0][0], current[-1][1]
                current, total = [], 0
            current.append(piece)
            total += piece[2]
        if current:
            yield current[0][0], current[-1][1]

    def _fit(self, text: str, s: int, e: int) -> list[tuple[int, int, int]]:
        """Split one block into pieces of at most max_tokens (sentences, then words)."""
        tokens = self.count_tokens(text[s:e])
        if tokens <= self.max_tokens:
            return [(s, e, tokens)]
        out: list[tuple[int, int, int]] = []
        spans = [(s + a, s + b) for a, b in sentence_spans(text[s:e])]
        if len(spans) == 1:
            return self._split_words(text, s, e)
        for a, b in spans:
            out.extend(self._fit(text, a, b))
        return out

    def _split_words(self, text: str, s: int, e: int) -> list[tuple[int, int, int]]:
        words = [(m.start() + s, m.end() + s) for m in re.finditer(r"\S+", text[s:e])]
        out, i = [], 0
        per_piece = max(1, int(len(words) * self.max_tokens / max(self.count_tokens(text[s:e]), 1)))
        while i < len(words):
            j = min(len(words), i + per_piece)
            while j > i + 1 and self.count_tokens(text[words[i][0] : words[j - 1][1]]) > self.max_tokens:
                j -= max(1, (j - i) // 10)
            out.append((words[i][0], words[j - 1][1], self.count_tokens(text[words[i][0] : words[j - 1][1]])))
            i = j
        return out


def _strip(text: str, s: int, e: int) -> tuple[int, int]:
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    return s, e
