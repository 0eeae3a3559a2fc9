"""The offline answerer: the guidance's own sentences, chosen for the question, each with its [n].

Deterministic and fast: sentences of the retrieved passages are scored by the
idf-weighted share of the question's words they contain plus their passage's
retrieval rank; the best `prefilter` are re-scored by embedding similarity to
the question (vectors stored at ingest, see index/sentences.py), picked best
first without near-repeats until about `word_budget` words of guidance (a
sentence that would overrun the budget is passed over for a shorter one),
grouped by source and put back in document order. A word budget rather than a
count of sentences, because the guidance's sentences run from five words to
sixty. A quoted sentence brings the next one of its paragraph, and the one
before when it leans on it (`_context`).

Lists compete as wholes (assistant/units.py); a list's vector is its
sentences' stored vectors averaged (no model call). What was measured for each
choice is in evals/results/answers-and-retrieval.md.
"""

from __future__ import annotations

import re

import numpy as np

from assistant.frame import Frame, frame as frame_for
from assistant.units import QuotedList, Unit, judged_text, units
from corpus.records import Answer, Citation, Passage, Sentence
from corpus.settings import AnswerSettings
from corpus.text import sentence_spans, tokenize
from index.sentences import SentenceVectors

# a sentence that leans on the one before it, meaningless once that one is left out: a word pointing back opens it,
# or follows a short opening phrase ("In the best case, this person ...")
_LEANING = re.compile(
    r"(?:[^,.;:]{1,40},\s+)?(they|them|their|this|these|those|it|its|he|she|such|however|also|both|each|that)\b", re.I)


class ExtractiveAnswerer:
    """Composes answers from passage sentences. `idf` weights words; `embedder` (the question) and
    `sentences` (the passages' sentences) re-score candidates; `judge` (assistant/judge/), when given, decides
    among the best of them; `settings` holds every number it uses; `frame` the language of its lead-ins."""

    name = "extractive"
    verbatim = True

    def __init__(self, embedder=None, idf=None, sentences: SentenceVectors | None = None,
                 settings: AnswerSettings = AnswerSettings(), judge=None, judge_settings=None, frame: Frame | None = None):
        self.embedder = embedder
        self.idf = idf or (lambda term: 1.0)
        self.settings = settings
        self.sentences = sentences or (SentenceVectors(embedder) if embedder is not None else None)
        self.judge = judge
        self.judge_settings = judge_settings
        self.frame = frame or frame_for()

    def _list_vectors(self, blocks: list[QuotedList]) -> list[np.ndarray]:
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

    def cheap_scores(self, question: str, passages: list[Passage], candidates: list[Unit]) -> list[float]:
        """Scores without the judge: lexical (with the passage's rank prior), re-scored by embedding similarity to
        the question for the best `prefilter` sentences and every list (vectors stored at ingest: no model call
        but the question's own embedding). Also sets each unit's `score`."""
        self.score_lexically(question, candidates)
        sentences = sorted((c for c in candidates if not c.is_list), key=lambda c: -c.score)[: self.settings.prefilter]
        lists = [c for c in candidates if c.is_list]
        if self.embedder is not None and (sentences or lists):
            q = self.embedder.embed_query(question)
            vectors = list(self.sentences.vectors([c.text for c in sentences])) if sentences else []
            vectors += self._list_vectors([c.of_list for c in lists])
            w = self.settings.similarity
            for c, v in zip(sentences + lists, vectors):
                c.score = c.weight * w * float(v @ q) + (1 - w) * c.score
            floor = min(c.score for c in sentences + lists)
            for c in candidates:  # below the prefilter: below every re-scored unit
                if c not in sentences and not c.is_list:
                    c.score = min(c.score, floor) - 1.0
        return [c.score for c in candidates]

    def score_lexically(self, question: str, candidates: list[Unit]) -> None:
        """Each unit's idf-weighted share of the question's words, plus its passage's rank prior."""
        q_terms = set(tokenize(question))
        total = sum(self.idf(t) for t in q_terms) or 1.0
        for unit in candidates:
            lexical = sum(self.idf(t) for t in q_terms & unit.terms) / total
            unit.score = unit.weight * (lexical + self.settings.rank_prior / (unit.passage + 1))

    def answer(self, question: str, passages: list[Passage], on_token=None) -> Answer:
        """Best sentences (or lists) first, within the word budget. Nothing streams: `on_token` is not called.

        With a judge, the best `units` by the cheap scores are re-scored by how likely each answers the question
        (most were read already when the passages were reranked: assistant/judge/rerank.py), blended with their
        cheap score (`blend`: the judge's share), and a unit under `pick` times the best unit's score is not
        quoted. The blend keeps what each does well: the judge knows which unit answers, the cheap scores which
        units say most of what the question asks (a whole list of roles rather than one of them)."""
        sentences, lists = units(passages, self.settings.list_words)
        self.cheap_scores(question, passages, sentences + lists)
        candidates = sorted(sentences, key=lambda c: -c.score)[: self.settings.prefilter] + lists
        cutoff = self.settings.cutoff
        if self.judge is not None and candidates:
            candidates = sorted(candidates, key=lambda c: (-c.score, c.passage, c.start))[: self.judge_settings.units]
            probs = self.judge.answers(question, [judged_text(passages[c.passage], c) for c in candidates])
            top = max(c.score for c in candidates) or 1.0
            blend = self.judge_settings.blend
            probs = [float(p) for p in probs]
            for i, c in enumerate(candidates):  # a list answers as well as the second best of its items the judge
                if c.is_list:                   # read: two items that answer make a list that does (as in training)
                    items = sorted((p for o, p in zip(candidates, probs) if o.item and o.of_list is c.of_list), reverse=True)
                    probs[i] = max([probs[i]] + items[1:2])
            for c, prob in zip(candidates, probs):
                c.score = c.weight * (blend * prob + (1 - blend) * max(c.score, 0.0) / top)
            cutoff = self.judge_settings.pick
        candidates.sort(key=lambda c: -c.score)
        chosen: list[Unit] = []
        per: dict[int, int] = {}
        in_order: dict[int, list[Unit]] = {}  # each passage's sentences in document order, for their context
        for unit in sorted(sentences, key=lambda o: o.start):
            in_order.setdefault(unit.passage, []).append(unit)
        words = 0
        best = candidates[0].score if candidates else 0.0
        for c in candidates:
            if len(chosen) == self.settings.max_sentences or c.score < cutoff * best:
                break
            # a list's items quoted on their own give way to the whole list, and are not repeated after it; a
            # detail of an item may follow the list unless it leans on the item it came from ("They ...")
            if c.of_list is not None and not c.is_list and any(o.is_list and o.of_list is c.of_list for o in chosen):
                if c.item or _LEANING.match(c.text):
                    continue
            listed = [o for o in chosen if c.is_list and o.item and o.of_list is c.of_list]
            if per.get(c.passage, 0) - len(listed) >= self.settings.per_passage:  # a list takes its items' places
                continue
            if any(_jaccard(c.terms, o.terms) > self.settings.repeat_overlap for o in chosen if o not in listed):
                continue
            n = len(c.text.split()) - sum(len(o.text.split()) for o in listed)
            if chosen and words + n > self.settings.word_budget:
                continue  # too long for what is left: a shorter one further down may fit
            chosen = [o for o in chosen if o not in listed] + [c]
            words += n
            per[c.passage] = per.get(c.passage, 0) + 1 - len(listed)
            for extra in self._context(c, passages[c.passage].text, in_order.get(c.passage, [])):
                size = len(extra.text.split())
                if extra in chosen or words + size > self.settings.word_budget or len(chosen) == self.settings.max_sentences:
                    continue
                if not any((o.is_list and extra.of_list is not None and o.of_list is extra.of_list)
                           or _jaccard(extra.terms, o.terms) > self.settings.repeat_overlap for o in chosen):
                    chosen.append(extra)
                    words += size
        return compose(question, passages, chosen, self.name, self.frame)

    def _context(self, unit: Unit, text: str, mine: list[Unit]) -> list[Unit]:
        """What a quoted sentence brings with it from its paragraph: the sentence after it (`follow`), where the
        guidance so often gives the substance its first sentence introduces ("How often you check in with a vendor
        will vary." then "Fit your vendor management approach to the size and scope of the contract."), and the
        sentence before it when it leans on that one ("They ...", `lean`), which alone would not make sense. `text`
        is the unit's passage, `mine` its sentences in document order."""
        if unit.is_list:
            return []
        at = mine.index(unit) if unit in mine else -1
        out = []
        if self.settings.follow and 0 <= at < len(mine) - 1 and _same_paragraph(text, unit, mine[at + 1]):
            out.append(mine[at + 1])
        if self.settings.lean and at > 0 and _LEANING.match(unit.text) and _same_paragraph(text, mine[at - 1], unit):
            out.append(mine[at - 1])
        return out


def paragraph_opening(unit: Unit, text: str, mine: list[Unit]) -> Unit | None:
    """The first sentence of the paragraph a sentence stands in, when that is another sentence (None for a list, a
    paragraph's first sentence, or a unit not in `mine`, its passage's sentences in document order; `text` is
    the passage). The guidance states a paragraph's point first ("Reality: ... it's not automatically better.")
    and works it out after, so a sentence quoted from the middle of one can lose what it qualifies."""
    if unit.is_list or unit not in mine:
        return None
    at = mine.index(unit)
    while at > 0 and _same_paragraph(text, mine[at - 1], mine[at]):
        at -= 1
    return mine[at] if mine[at] is not unit else None


def _same_paragraph(text: str, first: Unit, second: Unit) -> bool:
    """Whether no blank line stands between two units of a passage's `text`, `first` the earlier."""
    return "\n\n" not in text[first.start + len(first.text) : second.start]


def compose(question: str, passages: list[Passage], chosen: list[Unit], answerer: str, frame: Frame | None = None) -> Answer:
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
        span = (mine[0].start, max(c.of_list.ranges[-1][1] if c.is_list else c.start + len(c.text) for c in mine))
        # the quote is the passage's own text from the first unit to the end of the last, so that it is found there as
        # it is (the source view highlights it, API clients check it), also when the units do not stand side by side
        quote = passage.text[span[0] : span[1]].strip()
        citations.append(Citation.from_passage(n, passage, quote=quote, span=span))
        leaf = passage.section.split(" > ")[-1] if passage.section else passage.title
        label = passage.title if leaf == passage.title else f"{passage.title} › {leaf}"
        lines = [(frame or frame_for())("from", label=label)]
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


def _jaccard(a: frozenset, b: frozenset) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0
