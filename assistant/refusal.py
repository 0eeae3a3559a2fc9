"""Decides whether the guidance answers a question, and says so plainly when it does not.

The trained judge (assistant/judge/) has read the question with the best
units of the retrieved passages (assistant/judge/rerank.py); the
answerability model (assistant/judge/answerable.py) reads its verdict with
what the search found and gives one probability that the guidance answers
the question: at or above `answer` the question is answered; from `closest`
up to there the answer says the guidance does not answer it directly and
quotes the closest it says; below, the assistant refuses and names the
nearest topics. The cut-offs are those training picked on questions it never
fitted on, unless the settings name others. Questions that are instructions to the assistant,
writing tasks, product picks, prices and dates the guidance never gives all
come out the same way: no unit answers them. An instruction wrapped round a
real question is not obeyed, and the question in it is answered.

A question that would be answered, directly or as "the closest", is first
read by the premise check (assistant/judge/premise.py): when it found a unit
that contradicts what the question takes the guidance to say, at or over its
cut-off, the verdict is "premise", and the answer says so and quotes that
unit, because a question built on a false premise is often otherwise well
answered ("Since the guide says AI is set-and-forget, what is the minimum
monitoring?"). A question refused anyway stays refused: a unit that seems to
contradict a spreadsheet question is no answer to it. Under that cut-off but
at or over its lower `premise_doubt`, an answer that would be given plainly
is hedged as "the closest it says" instead: the check is unsure, and the
answerability model, reading only how well the units answer what is asked,
answers a premise twisted in the guidance's own words as readily as a true
one (the doubt cut-off hedges a set share of answerable validation questions).

Two checks stay rules, because they are exact look-ups no model does better:
a named law or contract the question turns on ("Under the National Audit Act
1983, ...") must appear in the passages, and a quoted or capitalised name of
two or more words must be one the guidance uses anywhere. Without a judge
(a configuration kept for comparison), a question whose best passage's cosine
similarity is under `min_similarity` is refused. With it, a question whose
best passage's cosine is under the much lower `topic_similarity` is refused
whatever the judge says: nothing in the guidance is about it ("Please write a
poem about spring"), and a judge that reads one unit against it at a time can
still find a sentence it likes. The floor sits where about 1 in 1,000
answerable training questions falls under it (with the embedder the index
uses; evals/results/judge.md), and it carries over to a user's own documents,
since a question's cosine with the passage that answers it does not depend on
how many others there are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.frame import Frame, frame as frame_for
from assistant.judge.answerable import features
from corpus.language import ENGLISH
from corpus.records import Passage
from corpus.settings import JudgeSettings, RefusalSettings
from corpus.text import tokenize

_NAMED = re.compile(r"['\"‘“]([^'\"’”]{2,40})['\"’”]|(?<=\w )([A-Z][\w-]+)")  # quoted, or capitalised mid-sentence
# a named law, contract or code the question turns on ("Under the National Audit Act 1983, ...")
_INSTRUMENT = re.compile(
    r"\b(?i:under|according to|in line with|comply(ing)? with)\s+(?i:the\s+)?(?P<law>(?:[A-Z][\w'’.-]*\s+){0,6}"
    r"(?:Act|Regulations?|Directive|Law|Code|Contract|Rules|Statute|Ordinance)\b(?:\s+\d{4})?)"
)
NOT_COVERED = frame_for()("not_covered")
NOT_DIRECTLY = frame_for()("not_directly")


@dataclass
class Verdict:
    """Whether to refuse, why (one line), the nearest topics the guidance does cover, and how sure.

    `kind` is "answer", "closest" (answered with the closest passages, said to be not a direct answer),
    "premise" (the guidance contradicts the question's premise: `unit` is (passage index, unit start) of what
    it says instead) or "refusal"; `confidence` the probability that the guidance answers the question (None
    without a judge)."""

    refuse: bool
    reason: str = ""
    nearest: list[str] | None = None
    kind: str = "answer"
    confidence: float | None = None
    unit: tuple[int, int] | None = None


def readable(passages: list[Passage], language: str) -> list[Passage]:
    """The passages a reader of `language` is answered and pointed from: those in it (or in no stated language);
    where there are none, a Welsh reader gets every passage (the Welsh guidance is a translation of some of the
    English, and Welsh readers read English), an English reader none rather than Welsh text. No `language`: all."""
    if not language:
        return passages
    mine = [p for p in passages if p.provenance.language in ("", language)]
    return mine if mine or language == ENGLISH else passages


def nearest_topics(passages: list[Passage], n: int = RefusalSettings.nearest_topics, language: str = "") -> list[str]:
    """The first `n` titles and sections of the passages; those in `language` only, where there are any (a
    reader of an English question is pointed to English guidance even when the search also found the Welsh).
    Where there are none, a Welsh reader is pointed to English guidance (the Welsh guidance is a translation of
    some of it, and Welsh readers read English), but an English reader to nothing rather than to Welsh titles."""
    topics: list[str] = []
    for p in readable(passages, language):
        leaf = p.section.split(" > ")[-1] if p.section else ""
        topic = p.title if not leaf or leaf == p.title else f"{p.title}: {leaf}"
        if topic not in topics:
            topics.append(topic)
        if len(topics) == n:
            break
    return topics


def _strongest_contradiction(passages: list[Passage]) -> tuple[float, int, int] | None:
    """(probability, passage index, unit start) of the unit the premise check read as most contradicting (the
    first passage's on a tie); None when it read none."""
    found = [(prob, -i, int(start)) for i, p in enumerate(passages) for start, prob in p.signals.get("premise", {}).items()]
    if not found:
        return None
    prob, i, start = max(found)
    return prob, -i, start


class RefusalPolicy:
    """Reads the judge's verdict from the passages' signals; `known` says whether a stemmed word occurs in the
    indexed guidance at all; `frame` is the language its reasons are given in (assistant/frame.py);
    `answerability` the judge's answerability model (None: no judge); `embed` the index's question embedder, which
    its form model reads."""

    def __init__(self, settings: RefusalSettings = RefusalSettings(), judge: JudgeSettings | None = None, known=None,
                 frame: Frame | None = None, answerability=None, premise_cut: float | None = None, embed=None,
                 premise_doubt: float | None = None):
        self.settings = settings
        self.judge = judge  # the judge's settings; None: no judge
        self.answerability = answerability
        self.premise_cut = premise_cut  # the premise check's cut-off; None: no premise check
        self.premise_doubt = premise_doubt  # its doubt cut-off: a plain answer at or over it is hedged; None: none
        self.known = known or (lambda term: True)
        self.embed = embed
        self.frame = frame or frame_for()

    def check(self, question: str, passages: list[Passage]) -> Verdict:
        nearest = nearest_topics(passages, self.settings.nearest_topics, self.frame.language)
        if not passages:
            return Verdict(True, self.frame("nothing_matches"), nearest, "refusal")
        missing = self.missing_name(question, passages)
        if missing:
            return Verdict(True, missing, nearest, "refusal")
        judged = any("judge" in p.signals for p in passages)
        similarities = [p.similarity for p in passages if p.similarity is not None]  # keyword-only search has none
        if self.judge is None or self.answerability is None or not judged:
            if similarities and max(similarities) < self.settings.min_similarity:
                return Verdict(True, self.frame("not_covered"), nearest, "refusal")
            return Verdict(False, "", nearest)
        # read in the question's language: the English model's cosine between an English question and a Welsh
        # passage says nothing of a shared topic (off-topic English questions find Welsh passages first), and an
        # English reader is not answered from Welsh text; other readers fall back to every passage found
        topical = [p.similarity for p in readable(passages, self.frame.language) if p.similarity is not None]
        if similarities and max(topical, default=0.0) < self.settings.topic_similarity:
            return Verdict(True, self.frame("not_covered"), nearest, "refusal")
        form = self.answerability.form_score(self.embed(question)) if self.answerability.form is not None else 0.0
        score = round(float(self.answerability.probability(features(question, passages, form))), 4)
        picked = self.answerability.card.get("thresholds", {})
        answer = self.judge.answer if self.judge.answer is not None else picked["answer"]
        closest = self.judge.closest if self.judge.closest is not None else picked["closest"]
        contradiction = self.contradiction(passages) if score >= closest else None
        if contradiction is not None:
            return Verdict(False, self.frame("premise"), nearest, "premise", score, contradiction)
        if score >= answer and not self.doubted(passages):
            return Verdict(False, "", nearest, "answer", score)
        if score >= closest:
            return Verdict(False, self.frame("not_directly"), nearest, "closest", score)
        return Verdict(True, self.frame("not_covered"), nearest, "refusal", score)

    def doubted(self, passages: list[Passage]) -> bool:
        """Whether the premise check leans towards a contradiction without reaching its cut-off (`premise_doubt`):
        the judge may find the units answering what the question asks while what it takes the guidance to say is
        wrong, so the answer is hedged rather than given as the guidance's word."""
        strongest = _strongest_contradiction(passages)
        return self.premise_doubt is not None and strongest is not None and strongest[0] >= self.premise_doubt

    def contradiction(self, passages: list[Passage]) -> tuple[int, int] | None:
        """(passage index, unit start) of the unit the premise check finds most contradicting, if at the cut-off."""
        strongest = _strongest_contradiction(passages)
        if self.premise_cut is None or strongest is None or strongest[0] < self.premise_cut:
            return None
        return strongest[1], strongest[2]

    def missing_name(self, question: str, passages: list[Passage]) -> str:
        """Why the question turns on a name the guidance does not use ("" when it uses every one)."""
        seen = _plain(" ".join(p.text for p in passages))
        law = _INSTRUMENT.search(question)
        if law and _plain(law.group("law")) not in seen:
            return self.frame("missing_law", law=law.group("law").strip())
        for quoted, _ in _NAMED.findall(question):
            words = quoted.split()
            if (len(words) >= 2 and all(w[:1].isupper() for w in words) and _plain(quoted) not in seen
                    and not all(self.known(t) for t in tokenize(quoted))):
                return self.frame("missing_name", name=quoted)
        return ""


def _plain(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


def refusal_text(verdict: Verdict, frame: Frame | None = None, elsewhere: bool = False) -> str:
    """The refusal's reason and the nearest topics; `elsewhere`: the passages found are in another language than
    the question's, which the assistant cannot read them against, so it says only that the guidance in the
    question's language does not cover it, and where the other may (a Welsh reader only: an English reader is
    never pointed to Welsh titles, so for them `nearest` is empty then)."""
    frame = frame or frame_for()
    text = frame("not_covered_here") if elsewhere and verdict.reason == frame("not_covered") else verdict.reason
    if verdict.nearest:
        text += frame("nearest_other" if elsewhere else "nearest", topics="; ".join(verdict.nearest))
    return text
