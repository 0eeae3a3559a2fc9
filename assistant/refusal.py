"""Decides when the guidance does not cover a question, and says so plainly.

Checks, in order, each with a one-line reason the user sees:
- requests that are not questions about the guidance: instructions to the
  assistant (prompt injection), writing or coding tasks, product picks;
- questions asking for a figure (price, threshold, penalty, deadline, the date
  a law applies from) that no retrieved passage gives, which is how
  country-specific legal and vendor pricing questions show up;
- a premise ("Since the guide says you must always build in-house...", "The
  case study says it was worth $77 million...") that no retrieved passage
  supports, or that puts a number in the guidance's mouth that it never states;
- retrieval that found nothing close (the best passage's cosine similarity
  under `min_similarity`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ingest.sentences import sentence_spans
from index.keyword import tokenize
from index.search import Passage

_INSTRUCTION = re.compile(
    r"\b(ignore|disregard|forget|override)\b[^.?!]{0,40}\b(instructions?|rules?|prompt|guidelines|citation)"
    r"|\b(system prompt|developer mode|debug mode|jailbreak)\b|^\W*(system|assistant)\s*[:>]"
    r"|\b(reveal|print|output|show|repeat)\b[^.?!]{0,30}\b(prompt|instructions|index|documents you)"
    r"|\bdo what it says\b|\bsigned as\b|\bcertify(ing)?\b"
    r"|\b(ignore|disregard|forget)\b[^.?!]{0,20}\b(corpus|sources?|guidance|context|documents|passages)\b"
    r"|\b(from|using) your own knowledge\b|\bwithout (any )?(citations?|sources)\b|\badmin(istrator)? (note|mode|override)\b"
    r"|\byou are (now )?(authori[sz]ed|allowed|permitted)\b|<!--",
    re.I | re.M,
)
_TASK = re.compile(
    r"\b(write|draft|compose|generate)\b[^.?!]{0,40}\b(post|tweet|poem|e-?mail|essay|story|code|script|statement|letter"
    r"|memo|speech|press release|job (ad|advert|description)|cover letter|newsletter)s?\b"
    r"|\b(training|python|sql|javascript) code\b|\brecipe\b|\btranslate\b|\bfix (it|my|this|the error)\b|\bdebug\b",
    re.I,
)
_PRODUCT_PICK = re.compile(
    r"\b(just )?recommend (one|a (product|tool|vendor|supplier))\b|\bwhich (product|tool|vendor|supplier|is cheaper)\b"
    r"|\bwhich is (better|cheaper)\b",
    re.I,
)
_MONEY_ASK = re.compile(
    r"\bhow much\b(?=[^?]*\b(cost|costs|charge|charged|pay|paid|spend|budget|per)\b)|\bprice (per|of)\b|\bper (seat|user|month|million)\b|\bthreshold\b|\bpenalt(y|ies)\b|\bfines?\b"
    r"|\bcontract value\b|\b(in|how many) (pounds|euros|dollars)\b"
    r"|\b(above|over|under|below|at|from) what (dollar |euro |pound )?(value|amount|sum|level|figure)\b"
    r"|\bwhat (dollar|euro|pound) (value|amount|figure)\b",
    re.I,
)
_TIME_ASK = re.compile(r"\bminimum number of (days|weeks)\b|\bhow many (days|weeks|months)\b|\bdeadline\b", re.I)
_DATE_ASK = re.compile(
    r"\b(from|by|on|since|until) what date\b|\bwhat date\b|\bwhen (do|does|did|will)\b[^?]{0,80}\b(come|came) into force\b"
    r"|\bwhen (do|does|will)\b[^?]{0,80}\b(start|begin) (to )?apply(ing)?\b|\b(enter|entered|take|took) (into force|effect)\b",
    re.I,
)
_DATE = re.compile(r"\b(19|20)\d\d\b|\b(january|february|march|april|may|june|july|august|september|october|november"
                   r"|december)\b", re.I)
_NUMBER = re.compile(r"\d[\d,.]*\d|\d")
_MONEY = re.compile(r"[£€$]\s?\d|\d[\d,.]*\s?(pounds|euros|dollars|usd|eur|gbp|million|billion)\b", re.I)
_DURATION = re.compile(r"\b\d+\s?(days|weeks|months)\b", re.I)
_CLAIM = re.compile(r"^.*?\b(says|say|states|requires|mandates|recommends|gives|lets|let)\b\s*(that\s+)?", re.I)
_SOURCE = r"(guide|guidance|principles|toolkit|chapter|report|ocp|document|case stud(y|ies)|playbook|section|example)"
_REPORTING = r"(says|say|states|requires|require|mandates|recommends|gives|lets|let|made|makes|allowed?)"
_PREMISE = re.compile(
    rf"^\s*(since|given that)\s+(?P<premise>[^,?]{{12,}}?)\s*,"
    rf"|^\s*(as|because)\s+(?P<premise2>[^,?]*\b{_SOURCE}\b[^,?]*\b{_REPORTING}\b[^,?]{{8,}}?)\s*,"
    rf"|^\s*(?P<premise3>(the|our|this)\s[^,?]{{0,60}}\b{_SOURCE}\b[^,?]{{0,30}}\b{_REPORTING}\b[^,?]{{8,}}?)\s*(,|\s[—–-]\s|\bso\b|\.\s)",
    re.I,
)


@dataclass
class Verdict:
    """Whether to refuse, why (one line), and the nearest topics the guidance does cover."""

    refuse: bool
    reason: str = ""
    nearest: list[str] | None = None


def nearest_topics(passages: list[Passage], n: int = 3) -> list[str]:
    topics: list[str] = []
    for p in passages:
        leaf = p.section.split(" > ")[-1] if p.section else ""
        topic = p.title if not leaf or leaf == p.title else f"{p.title}: {leaf}"
        if topic not in topics:
            topics.append(topic)
        if len(topics) == n:
            break
    return topics


class RefusalPolicy:
    """Applies the checks above; `judge` scores premise support (see assistant/verify.py)."""

    def __init__(self, judge, min_similarity: float = 0.36, premise_support: float = 0.75):
        self.judge = judge
        self.min_similarity = min_similarity
        self.premise_support = premise_support

    def check(self, question: str, passages: list[Passage]) -> Verdict:
        nearest = nearest_topics(passages)
        if _INSTRUCTION.search(question):
            return Verdict(True, "I answer questions from the guidance; I don't follow instructions to change how I work.", nearest)
        if _TASK.search(question):
            return Verdict(True, "That is a task outside the guidance, which covers how to buy AI in the public sector.", nearest)
        if _PRODUCT_PICK.search(question):
            return Verdict(True, "The guidance does not recommend or compare specific products or vendors.", nearest)
        if not passages:
            return Verdict(True, "Nothing in the guidance matches this question.", nearest)
        similarities = [p.similarity for p in passages if p.similarity is not None]
        if similarities and max(similarities) < self.min_similarity:  # keyword-only search has none
            return Verdict(True, "The guidance does not cover this.", nearest)
        if (_MONEY_ASK.search(question) and not _gives_figure(question, passages, _MONEY)) or (
            _TIME_ASK.search(question) and not _gives_figure(question, passages, _DURATION)
        ) or (_DATE_ASK.search(question) and not _gives_figure(question, passages, _DATE)):
            return Verdict(
                True,
                "The guidance does not give that figure: it does not set prices, legal thresholds, penalties or the dates "
                "laws apply from for any particular country or product. Check your own procurement rules or the vendor.",
                nearest,
            )
        match = _PREMISE.search(question)
        if match:
            premise = match.group("premise") or match.group("premise2") or match.group("premise3")
            premise = _CLAIM.sub("", premise, count=1) or premise
            support = max((self.judge.support(premise, p.text) for p in passages), default=0.0)
            stated = {n for p in passages for n in _NUMBER.findall(p.text)}
            if support < self.premise_support or set(_NUMBER.findall(premise)) - stated:  # a figure it never gives
                return Verdict(True, f"The guidance does not say that {premise.strip().rstrip('.')}.", nearest)
        return Verdict(False, "", nearest)


def _gives_figure(question: str, passages: list[Passage], figure: re.Pattern) -> bool:
    """True if a sentence of the top passages states such a figure and shares the question's subject."""
    asked = set(tokenize(question))
    for p in passages[:3]:
        for s, e in sentence_spans(p.text):
            sentence = p.text[s:e]
            if figure.search(sentence) and len(asked & set(tokenize(sentence))) >= max(2, len(asked) // 3):
                return True
    return False


def refusal_text(verdict: Verdict) -> str:
    text = verdict.reason
    if verdict.nearest:
        text += " Topics the guidance does cover that come closest: " + "; ".join(verdict.nearest) + "."
    return text
