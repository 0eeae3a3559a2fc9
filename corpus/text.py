"""The text rules every layer shares: sentences and lists with their offsets, words for matching, and
the normal form two texts are compared in. Imports nothing of the project."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# A sentence ends at . ! ? (and any closing quote or bracket) before whitespace and
# a capital, digit, quote or bullet; or at a line break (list items, table rows).
_BOUNDARY = re.compile(r"(?<=[.!?])[\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9•-])|\n+")
_ABBREVIATIONS = ("e.g.", "i.e.", "etc.", "vs.", "Mr.", "Ms.", "Dr.", "St.", "No.", "U.S.", "approx.")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of `text`, stripped of surrounding space."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        end = match.start()
        if text[:end].endswith(_ABBREVIATIONS) and "\n" not in match.group(0):
            continue
        spans.append((start, end))
        start = match.end()
    spans.append((start, len(text)))
    out = []
    for s, e in spans:
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            out.append((s, e))
    return out


_ITEM = re.compile(r"[ \t]*(?:[-•*]|\d{1,2}[.)])[ \t]+\S")


def list_spans(text: str, min_items: int = 3) -> list[list[tuple[int, int]]]:
    """The bulleted lists of `text`, each as the (start, end) of its items: lines that open with a
    bullet, one after another or parted by blank lines; a plain line right under an item (no blank
    line between, not a heading) continues it, as in Markdown. Shorter lists are left out."""
    lists: list[list[tuple[int, int]]] = []
    current: list[tuple[int, int]] = []
    offset, blank = 0, True
    for raw in text.split("\n"):
        start, offset = offset, offset + len(raw) + 1
        if not raw.strip():
            blank = True
            continue
        end = start + len(raw.rstrip())
        if _ITEM.match(raw):
            current.append((start + len(raw) - len(raw.lstrip()), end))
        elif current and not blank and not raw.lstrip().startswith("#"):
            current[-1] = (current[-1][0], end)
        else:
            if len(current) >= min_items:
                lists.append(current)
            current = []
        blank = False
    if len(current) >= min_items:
        lists.append(current)
    return lists


def quote_span(text: str, quote: str) -> tuple[int, int] | None:
    """Where a quote sits in a passage's text, from the first to the last of the passage's sentences (or list
    items) it quotes: a quote may join sentences and items, in any order, that the passage parts with line
    breaks and bullets. Failing that, where its longest opening run of words is; None if not even its first
    word is there."""
    if not quote.split():
        return None
    at = text.find(quote)
    if at >= 0:
        return at, at + len(quote)
    flat = " " + " ".join(quote.split()) + " "
    quoted = []
    for s, e in sentence_spans(text):
        lead = re.match(r"(?:[-•*]|\d{1,2}[.)])\s+", text[s:e])
        s += lead.end() if lead else 0
        if len(text[s:e].split()) >= 3 and " " + " ".join(text[s:e].split()) + " " in flat:
            quoted.append((s, e))
    if quoted:
        return quoted[0][0], quoted[-1][1]
    words = quote.split()
    lo, hi, best = 1, len(words), None
    while lo <= hi:  # a run of k opening words found means every shorter one is found too
        mid = (lo + hi) // 2
        match = re.search(r"\s+".join(re.escape(w) for w in words[:mid]), text)
        if match:
            best, lo = match, mid + 1
        else:
            hi = mid - 1
    return (best.start(), best.end()) if best else None


def sentences(text: str) -> list[str]:
    """The sentences of `text`."""
    return [text[s:e] for s, e in sentence_spans(text)]


_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)|!\[[^\]]*\]\[[^\]]*\]")
_LINK = re.compile(r"\[([^\]]+)\]\((?:[^()]|\([^)]*\))*\)")
_REF_LINK = re.compile(r"\[([^\]]+)\]\[[^\]]*\]")
_AUTOLINK = re.compile(r"<(https?://[^>\s]+)>")
_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>")
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|>~])")
_STRONG = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_EMPH = re.compile(r"(?<![\w*])([*_])(?=\S)(.+?)(?<=\S)\1(?![\w*])")
_SPACES = re.compile(r"[ \t\u00a0]+")


def inline(text: str) -> str:
    """Strip inline Markdown and HTML from one line, keeping the words."""
    text = _IMAGE.sub("", text)
    text = _LINK.sub(r"\1", text)
    text = _REF_LINK.sub(r"\1", text)
    text = _AUTOLINK.sub(r"\1", text)
    text = _TAG.sub("", text)
    text = text.replace("`", "")
    text = _ESCAPE.sub(r"\1", text)
    for _ in range(2):
        text = _STRONG.sub(r"\2", text)
    text = _EMPH.sub(r"\2", text)
    text = text.replace("**", "")
    text = text.replace("&nbsp;", " ").replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")
    return _SPACES.sub(" ", text).strip()


_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-", "\u00a0": " "})


def normalise(text: str) -> str:
    """Text as a reader compares it: no markup, straight quotes, single spaces, lower case."""
    text = unicodedata.normalize("NFKC", inline(text)).translate(_QUOTES)
    return re.sub(r"\s+", " ", text).strip().lower()


_WORD = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


@lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN)


def tokenize(text: str) -> list[str]:
    """Words for matching: lower case, English stop words dropped, stemmed (BM25 and the answerer's overlap)."""
    words = [w.replace("’", "'").split("'")[0] for w in _WORD.findall(text.lower())]
    stop = _stopwords()
    return _stemmer().stemWords([w for w in words if w and w not in stop])
