"""What an answer may quote from retrieved passages: their sentences, and their lists as wholes.

Both the offline answerer and the judge read passages as these units, so what
the judge was trained to score is exactly what an answer can quote. A list of
3 or more items is also a unit of its own, quoted by its items' names under
the line that introduces it ("Key roles include: Procurement officer; Legal
officer; ..."): much of the guidance answers "who" and "what" in lists, whose
items alone read as weak matches and cost many words. A name is the item's
text up to its colon, dash, or a comma before "who", "such as", "including" and
the like; an item with no short name is quoted whole. Every name and the lead
are verbatim text of the passage, so the citation check holds each of them to
the passage like any sentence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from corpus.records import Passage
from corpus.text import list_spans, sentence_spans, tokenize

_METADATA_LINE = re.compile(r"^\s*-\s*(Who|What)\s*:", re.I)  # a chapter's audience lines, not a case study's "Who:"
_BULLET = re.compile(r"^\s*(?:[-•*]|\d{1,2}[.)])\s+")
_HEADING = re.compile(r"^\s*#{1,6}\s+")
# where a list item's name ends: "Timeline: Establishing ...", "Legal officer, who can ...", "Performance, to enable ..."
_NAME_END = re.compile(
    r":\s|\s[-–—]\s|,\s+(?=(?:such as|including|like|to|for example|e\.g\.|which|who|whose|where|or|so|that|as|with)\b)", re.I)
_NAME_WORDS = 16  # an item's name is at most this long: a longer one is a sentence, and its list is not quoted whole
# sections that point elsewhere (reading lists) rather than give guidance: their sentences answer last
_CELL = re.compile(r"\s\|\s")  # between the cells of a table row
_POINTERS = re.compile(r"\b(resources?|further reading|references|read more|useful links|bibliography)\b", re.I)


@dataclass
class QuotedList:
    """A bulleted list of a passage: the line that introduces it and its items (their first sentences)."""

    lead: str
    lead_quoted: bool  # the lead is text of the passage (not only its section's name)
    items: list[str]
    ranges: list[tuple[int, int]]  # where its items are in the passage
    span: str  # its items as they stand in the passage

    @property
    def start(self) -> int:
        return self.ranges[0][0]

    def names(self) -> list[str]:
        return [item_name(t) for t in self.items]

    def line(self) -> str:
        """The quoted line: the lead (a section's name is left to the answer's "From" label) and the names."""
        lead = self.lead.strip() if self.lead_quoted else ""
        if lead and not lead.endswith((":", "?", "…", "...")):
            lead += ":"
        return (f"{lead} " if lead else "") + "; ".join(self.names()) + "."

    def words(self) -> int:
        return len(self.line().split())


@dataclass
class Unit:
    """A sentence or a whole list of one of the passages (`passage` is its index), as it would be quoted."""

    passage: int
    start: int
    text: str
    terms: frozenset[str]
    score: float = 0.0
    weight: float = 1.0  # below 1 for sentences of reading lists
    of_list: QuotedList | None = None  # the list it is part of, or (is_list) the list itself
    item: bool = False  # the first sentence of one of of_list's items (its name comes from it)
    is_list: bool = False  # a whole list, quoted by its items' names


def units(passages: list[Passage], list_words: int) -> tuple[list[Unit], list[Unit]]:
    """The sentences of the passages that may be quoted on their own, and their lists that may be quoted whole
    (at most `list_words` words), unscored. Short fragments, headings, lines that only introduce what follows
    and chapters' audience lines ("- Who: ...") are not units; sentences of reading lists weigh half."""
    sentences, lists = [], []
    for i, p in enumerate(passages):
        leaf = p.section.split(" > ")[-1]
        weight = 0.5 if _POINTERS.search(leaf) else 1.0
        blocks = passage_lists(p.text, leaf)
        member = lambda at: next((b for b in blocks if any(s <= at < e for s, e in b.ranges)), None)  # noqa: E731
        for s, e in _cells(p.text, sentence_spans(p.text)):
            text = p.text[s:e].strip()
            if len(text.split()) < 5 or _METADATA_LINE.match(text) or text.endswith(":") or _HEADING.match(text):
                continue
            block = member(s)
            sentences.append(Unit(i, s, text, frozenset(tokenize(text)), weight=weight, of_list=block,
                                  item=block is not None and any(s == a for a, _ in block.ranges)))
        for block in blocks:
            if block.words() > list_words:
                continue  # too long to quote whole: its items may still be quoted on their own
            context = leaf if leaf != block.lead else ""
            terms = frozenset(tokenize(" ".join([context, block.lead, *block.names()])))  # what is quoted
            lists.append(Unit(i, block.start, block.line(), terms, weight=weight, of_list=block, is_list=True))
    return sentences, lists


def _cells(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sentence spans cut at table cells ("a | b | c" rows): a unit never runs from one cell into the next."""
    out = []
    for s, e in spans:
        start = s
        for cut in _CELL.finditer(text, s, e):
            if cut.start() > start:
                out.append((start, cut.start()))
            start = cut.end()
        if e > start:
            out.append((start, e))
    return out


def judged_text(passage: Passage, unit: Unit) -> str:
    """What the judge reads of a unit: where it stands (the document and section), then the unit."""
    leaf = passage.section.split(" > ")[-1] if passage.section else ""
    where = passage.title if not leaf or leaf == passage.title else f"{passage.title} › {leaf}"
    return f"{where}: {unit.text}" if where else unit.text


def item_name(item: str) -> str:
    """A list item by its name: "Timeline: Establishing ..." gives "Timeline"; an item too long to be a name
    (over `_NAME_WORDS` words) is named by what comes before its first comma, when that is short ("Licensing
    and use, depending on the scope of your contract, to confirm ..." gives "Licensing and use": the guide's
    bold names end at a comma the cleaned text no longer marks); an item with no short name stays whole."""
    text = _BULLET.sub("", item).strip().rstrip(".;")
    match = _NAME_END.search(text)
    if match and 0 < len(text[: match.start()].split()) <= (10 if match.group(0).startswith(":") else 8):
        return text[: match.start()].strip()
    head = text.split(",", 1)[0].strip()
    if len(text.split()) > _NAME_WORDS and head != text and 0 < len(head.split()) <= 8:
        return head
    return text


def passage_lists(text: str, section: str = "") -> list[QuotedList]:
    """The passage's bulleted lists (ingest/sentences.py finds them) that can be quoted whole: 3 items or
    more, each with a short name (16 words at most, with letters), introduced by the line before (a heading,
    or a sentence ending with a colon) or, opening the passage, by its section. Lists no line introduces
    and reading lists ("Resources", "Additional resources include:") are left to their sentences.
    Chapters' audience lines ("- Who: ...") are not items."""
    out = []
    for spans in list_spans(text):
        items = [(s, e) for s, e in spans if not _METADATA_LINE.match(text[s:e])]
        if len(items) < 3:
            continue
        before = text[: spans[0][0]].rstrip()
        previous = before[before.rfind("\n") + 1 :].strip()
        if not before:
            lead, quoted = section, False
        elif _HEADING.match(previous):
            lead, quoted = _HEADING.sub("", previous).strip(), True
        elif previous.endswith(":"):
            lead, quoted = previous[sentence_spans(previous)[-1][0] :], True
        else:
            continue
        if _POINTERS.search(lead):
            continue
        firsts = []
        for s, e in items:
            s += len(_BULLET.match(text[s:e]).group(0))
            firsts.append(text[s : s + sentence_spans(text[s:e])[0][1]])
        names = [item_name(f) for f in firsts]
        if any(len(n.split()) > _NAME_WORDS or not re.search(r"[^\W\d_]", n) for n in names):
            continue
        out.append(QuotedList(lead, quoted, firsts, items, text[spans[0][0] : spans[-1][1]]))
    return out
