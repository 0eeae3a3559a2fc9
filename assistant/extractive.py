"""The offline answerer: the guidance's own sentences, chosen for the question, each with its [n].

Deterministic and fast: sentences of the retrieved passages are scored by the
idf-weighted share of the question's words they contain plus their passage's
retrieval rank; the best `prefilter` are re-scored by embedding similarity to
the question (vectors stored at ingest, see index/sentences.py), picked best
first without near-repeats until about `word_budget` words of guidance (a
sentence that would overrun the budget is passed over for a shorter one),
grouped by source and put back in document order. A word budget rather than a
count of sentences, because the guidance's sentences run from five words to
sixty.

Lists compete as wholes. Much of the guidance answers "who" and "what" in
bulleted lists ("Key roles include: - Procurement officer, who leads ..."),
whose items alone read as weak matches and cost many words. Each list of 3 or
more items is also a candidate quoted by its items' names, under the line that
introduces it: "Key roles include: Procurement officer; Project team leader
(buyer); IT/Data science expert; Legal officer." A name is the item's text up
to its colon, dash, or a comma before "who", "such as", "including" and the
like; an item with no short name is quoted whole, and a list over `list_words`
words is not quoted whole. Every name and the lead are verbatim text of the
passage, so the citation check holds each of them to the passage like any
sentence. A list's vector is its sentences' stored vectors averaged (no model
call). What was measured for each choice is in evals/results/answers.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from corpus.records import Answer, Citation, Passage, Sentence
from corpus.settings import AnswerSettings
from corpus.text import list_spans, sentence_spans, tokenize
from index.sentences import SentenceVectors

_METADATA_LINE = re.compile(r"^\s*-\s*(Who|What)\s*:", re.I)  # a chapter's audience lines, not a case study's "Who:"
_BULLET = re.compile(r"^\s*(?:[-•*]|\d{1,2}[.)])\s+")
_HEADING = re.compile(r"^\s*#{1,6}\s+")
# where a list item's name ends: "Timeline: Establishing ...", "Legal officer, who can ...", "Performance, to enable ..."
_NAME_END = re.compile(
    r":\s|\s[-–—]\s|,\s+(?=(?:such as|including|like|to|for example|e\.g\.|which|who|whose|where|or|so|that|as|with)\b)", re.I)
# a sentence that leans on the one before it, meaningless once that one is left out
_LEANING = re.compile(r"(they|them|their|this|these|those|it|its|he|she|such|however|also|both|each|that)\b", re.I)
# sections that point elsewhere (reading lists) rather than give guidance: their sentences answer last
_POINTERS = re.compile(r"\b(resources?|further reading|references|read more|useful links|bibliography)\b", re.I)


@dataclass
class _List:
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
class _Candidate:
    passage: int
    start: int
    text: str
    terms: frozenset[str]
    score: float = 0.0
    weight: float = 1.0  # below 1 for sentences of reading lists
    of_list: _List | None = None  # the list it is part of, or (is_list) the list itself
    item: bool = False  # the first sentence of one of of_list's items (its name comes from it)
    is_list: bool = False  # a whole list, quoted by its items' names


class ExtractiveAnswerer:
    """Composes answers from passage sentences. `idf` weights words; `embedder` (the question) and
    `sentences` (the passages' sentences) re-score candidates; `settings` holds every number it uses."""

    name = "extractive"
    verbatim = True

    def __init__(self, embedder=None, idf=None, sentences: SentenceVectors | None = None,
                 settings: AnswerSettings = AnswerSettings()):
        self.embedder = embedder
        self.idf = idf or (lambda term: 1.0)
        self.settings = settings
        self.sentences = sentences or (SentenceVectors(embedder) if embedder is not None else None)

    def candidates(self, question: str, passages: list[Passage]) -> tuple[list[_Candidate], list[_Candidate]]:
        """Sentences that may be quoted on their own, and whole lists (a list's items by name), lexically scored."""
        q_terms = set(tokenize(question))
        total = sum(self.idf(t) for t in q_terms) or 1.0
        lexical = lambda terms: sum(self.idf(t) for t in q_terms & terms) / total  # noqa: E731
        sentences, lists = [], []
        for i, p in enumerate(passages):
            leaf = p.section.split(" > ")[-1]
            weight = 0.5 if _POINTERS.search(leaf) else 1.0
            prior = self.settings.rank_prior / (i + 1)
            blocks = passage_lists(p.text, leaf)
            member = lambda at: next((b for b in blocks if any(s <= at < e for s, e in b.ranges)), None)  # noqa: E731
            for s, e in sentence_spans(p.text):
                text = p.text[s:e].strip()
                if len(text.split()) < 5 or _METADATA_LINE.match(text) or text.endswith(":") or _HEADING.match(text):
                    continue
                terms = frozenset(tokenize(text))
                block = member(s)
                sentences.append(_Candidate(i, s, text, terms, weight * (lexical(terms) + prior), weight,
                                            of_list=block, item=block is not None and any(s == a for a, _ in block.ranges)))
            for block in blocks:
                if block.words() > self.settings.list_words:
                    continue  # too long to quote whole: its items may still be quoted on their own
                context = leaf if leaf != block.lead else ""
                terms = frozenset(tokenize(" ".join([context, block.lead, *block.names()])))  # what is quoted
                lists.append(_Candidate(i, block.start, block.line(), terms, weight * (lexical(terms) + prior), weight,
                                        of_list=block, is_list=True))
        return sentences, lists

    def _list_vectors(self, blocks: list[_List]) -> list[np.ndarray]:
        """Each list's vector: its sentences' stored vectors averaged, weighted by length, in one lookup."""
        texts = [[b.span[s:e] for s, e in sentence_spans(b.span)] for b in blocks]
        flat = [t for group in texts for t in group]
        if not flat:
            return []
        vectors, out, at = self.sentences.vectors(flat), [], 0
        for group in texts:
            weights = np.array([len(t.split()) for t in group], dtype=np.float32)
            v = (vectors[at : at + len(group)] * weights[:, None]).sum(axis=0)
            out.append(v / max(float(np.linalg.norm(v)), 1e-12))
            at += len(group)
        return out

    def answer(self, question: str, passages: list[Passage], on_token=None) -> Answer:
        """Best sentences (or lists) first, within the word budget. Nothing streams: `on_token` is not called."""
        sentences, lists = self.candidates(question, passages)
        candidates = sorted(sentences, key=lambda c: -c.score)[: self.settings.prefilter] + lists
        if candidates and self.embedder is not None:
            q = self.embedder.embed_query(question)
            top = candidates[: len(candidates) - len(lists)]
            vectors = list(self.sentences.vectors([c.text for c in top])) + self._list_vectors([c.of_list for c in lists])
            w = self.settings.similarity
            for c, v in zip(candidates, vectors):
                c.score = c.weight * w * float(v @ q) + (1 - w) * c.score
        candidates.sort(key=lambda c: -c.score)
        chosen: list[_Candidate] = []
        per: dict[int, int] = {}
        words = 0
        best = candidates[0].score if candidates else 0.0
        for c in candidates:
            if len(chosen) == self.settings.max_sentences or c.score < self.settings.cutoff * best:
                break
            if per.get(c.passage, 0) >= self.settings.per_passage:
                continue
            # a list's items quoted on their own give way to the whole list, and are not repeated after it; a
            # detail of an item may follow the list unless it leans on the item it came from ("They ...")
            if c.of_list is not None and not c.is_list and any(o.is_list and o.of_list is c.of_list for o in chosen):
                if c.item or _LEANING.match(c.text):
                    continue
            listed = [o for o in chosen if c.is_list and o.item and o.of_list is c.of_list]
            if any(_jaccard(c.terms, o.terms) > self.settings.repeat_overlap for o in chosen if o not in listed):
                continue
            n = len(c.text.split()) - sum(len(o.text.split()) for o in listed)
            if chosen and words + n > self.settings.word_budget:
                continue  # too long for what is left: a shorter one further down may fit
            chosen = [o for o in chosen if o not in listed] + [c]
            words += n
            per[c.passage] = per.get(c.passage, 0) + 1 - len(listed)
        return compose(question, passages, chosen, self.name)


def compose(question: str, passages: list[Passage], chosen: list[_Candidate], answerer: str) -> Answer:
    """Group chosen sentences by passage (best first), in document order; number citations 1..m."""
    order: list[int] = []
    for c in chosen:
        if c.passage not in order:
            order.append(c.passage)
    citations: list[Citation] = []
    sentences: list[Sentence] = []
    blocks: list[str] = []
    for n, pi in enumerate(order, start=1):
        passage = passages[pi]
        mine = sorted((c for c in chosen if c.passage == pi), key=lambda c: c.start)
        quoted = [" ".join(c.of_list.items) if c.is_list else c.text for c in mine]
        citations.append(Citation.from_passage(n, passage, quote=" ".join(quoted)))
        leaf = passage.section.split(" > ")[-1] if passage.section else passage.title
        label = passage.title if leaf == passage.title else f"{passage.title} › {leaf}"
        lines = [f"From *{label}*:"]
        for c in mine:
            text = c.text.lstrip("-• ").strip()
            if c.is_list:  # a whole list: its lead and each item's name are quoted
                block = c.of_list
                parts = ([block.lead] if block.lead_quoted else []) + block.names()
                sentences += [Sentence(text=t, citations=[n], supported=True, support=1.0) for t in parts]
            else:
                sentences.append(Sentence(text=text, citations=[n], supported=True, support=1.0))
            lines.append(f"- {text} [{n}]")
        blocks.append("\n".join(lines))
    return Answer(
        question=question, answer="\n\n".join(blocks), refused=not sentences, citations=citations,
        retrieved=passages, sentences=sentences, answerer=answerer,
    )


def item_name(item: str) -> str:
    """A list item by its name: "Timeline: Establishing ..." gives "Timeline"; an item with no short name stays whole."""
    text = _BULLET.sub("", item).strip().rstrip(".;")
    match = _NAME_END.search(text)
    if match and 0 < len(text[: match.start()].split()) <= (10 if match.group(0).startswith(":") else 8):
        return text[: match.start()].strip()
    return text


def passage_lists(text: str, section: str = "") -> list[_List]:
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
        if any(len(n.split()) > 16 or not re.search(r"[^\W\d_]", n) for n in names):
            continue
        out.append(_List(lead, quoted, firsts, items, text[spans[0][0] : spans[-1][1]]))
    return out


def _jaccard(a: frozenset, b: frozenset) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0
