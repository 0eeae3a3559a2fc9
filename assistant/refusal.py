"""Decides when the guidance does not cover a question, and says so plainly.

Checks, in order, each with a one-line reason the user sees:
- requests that are not questions about the guidance: instructions to the
  assistant (prompt injection), writing or coding tasks, product picks;
- questions asking for a figure (price, threshold, penalty, deadline, the date
  a law applies from) that no retrieved passage gives, which is how
  country-specific legal and vendor pricing questions show up;
- a premise ("Since the guide says you must always build in-house...", "The
  case study says it was worth $77 million...", or any statement that has the
  guidance say or be something: "The guide's three pathways are buy, lease
  and build.") that no retrieved passage or heading supports, that uses a
  name the guidance never uses, or that puts a number in its mouth it never
  states. A heading "Myth: X" is what the guidance rejects: a premise that
  best matches it is refused as that myth when it repeats it, and let through
  when it denies it ("aren't", "never", "unsafe");
- retrieval that found nothing close (the best passage's cosine similarity
  under `min_similarity`).

What it cannot do: tell a true paraphrase from a false claim when the words
overlap (support is lexical + MiniLM, see assistant/verify.py), or notice a
false presupposition inside a question ("Why did Camden let consultants write
its charter?"). README "Refusals" gives its figures on held-out sets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from corpus.records import Passage
from corpus.settings import RefusalSettings
from corpus.text import sentence_spans, tokenize

_INSTRUCTION = re.compile(
    r"\b(ignore|disregard|forget|override)\b[^.?!]{0,40}\b(instructions?|rules?|prompt|guidelines|citation)"
    r"|\b(system prompt|developer mode|debug mode|jailbreak)\b|^\W*(system|assistant)\s*[:>]"
    r"|\b(reveal|print|output|show|repeat)\b[^.?!]{0,30}\b(prompt|instructions|index|documents you)"
    r"|\bdo what it says\b|\bsigned as\b|\bcertify(ing)?\b"
    r"|\b(ignore|disregard|forget)\b[^.?!]{0,20}\b(corpus|sources?|guidance|context|documents|passages)\b"
    r"|\b(from|using) your own knowledge\b|\bwithout (any )?(citations?|sources)\b|\badmin(istrator)? (note|mode|override)\b"
    r"|\byou are (now )?(authori[sz]ed|allowed|permitted)\b|<!--"
    r"|\blet'?s play a game\b|\b(stay|remain) in character\b|\bpretend (to be|you are|you're)\b|\brole-?play\b"
    r"|\byou are (now )?['\"‘“]?[\w-]+['\"’”]?,? an? (assistant|ai|bot|chatbot|model)\b|\bno (source|citation)s?\b[^.?!]{0,20}\brules?\b"
    r"|\bnew instructions\b|\bnever refuse\b|\btakes? priority over\b"
    r"|</?\s*(documents?|context|passages?|system|instructions?)\s*>|\[\s*(system|admin|developer|assistant)\s*\]"
    r"|<<\s*/?\s*(admin|system|sys|inst)\s*>>|\bcitations?\s*[:=]\s*(off|false|none|no|0)\b|\boverride\w*\s*[:=]"
    r"|^\W*(user|human|ai|bot)\s*:|\bfrom now on\b|\b(api|secret) keys?\b|\bhidden (config\w*|settings|prompt|rules)\b"
    r"|\b(earlier|previously|last time) you (said|agreed|confirmed|promised)\b|\bbase64\b|\bdecode (this|the following)\b"
    r"|\bverbatim\b[^?]{0,40}\b(index|corpus|database|documents|passages|everything)\b"
    r"|\b(dump|export)\b[^?]{0,30}\b(index|corpus|database|documents)\b",
    re.I | re.M,
)
# an encoded payload (base64-like: a long run of letters and digits in both cases)
_ENCODED = re.compile(r"(?=[A-Za-z0-9+/]*\d)(?=[A-Za-z0-9+/]*[A-Z])(?=[A-Za-z0-9+/]*[a-z])\b[A-Za-z0-9+/]{24,}={0,2}")
_LEET = str.maketrans("013457@$", "oieastas")
_TASK = re.compile(
    r"\b(write|draft|compose|generate)\b[^.?!]{0,40}\b(post|tweet|poem|e-?mail|essay|story|code|script|statement|letter"
    r"|memo|speech|press release|job (ad|advert|description)|cover letter|newsletter|haiku|limerick|song|joke|rap|slogan"
    r"|caption|invitation|card)s?\b"
    r"|\b(training|python|sql|javascript) code\b|\brecipe\b|\btranslate\b|\bfix (it|my|this|the error)\b|\bdebug\b"
    r"|\b(excel|spreadsheet|pivot table|vlookup|powerpoint)\b|\brestaurants?\b|\bweather\b|\bexchange rate\b"
    r"|\bconvert\b[^?]{0,30}\b(currency|dollars|euros|pounds)\b|\b(flights?|hotels?)\b",
    re.I,
)
_PRODUCT_PICK = re.compile(
    r"\b(just )?recommend (one|a (product|tool|vendor|supplier))\b|\bwhich (product|tool|vendor|supplier|is cheaper)\b"
    r"|\bwhich is (better|cheaper)\b"
    r"|\bwhich\b[^?]{0,30}\b(platform|product|tool|vendor|supplier|model|chatbot|llm|provider)s?\b[^?]{0,40}"
    r"\b(best|better|cheapest|fastest|top|most accurate)\b",
    re.I,
)
_MONEY_ASK = re.compile(
    r"\bhow much\b(?=[^?]*\b(cost|costs|charge|charged|pay|paid|spend|budget|per)\b)|\bprice (per|of)\b|\bper[- ](seat|user|month|million)\b|\bthreshold\b|\bpenalt(y|ies)\b|\bfines?\b"
    r"|\bcontract value\b|\b(in|how many) (pounds|euros|dollars)\b"
    r"|\b(above|over|under|below|at|from) what (dollar |euro |pound )?(value|amount|sum|level|figure)\b"
    r"|\bwhat (dollar|euro|pound) (value|amount|figure)\b|\b(above|over|under|below) which\b"
    r"|\b(limit|cap|ceiling|cut-?off)\b[^?]{0,40}\b(above|over|under|below|for|before)\b"
    r"|\bwhat (would|will|does|did)\b[^?]{0,40}\bcost( us| me| them)?\s*\?|\b(pricing|price) (plans?|tiers?)\b"
    r"|\b(monthly|annual|yearly|per[- ]user) (cost|price|fee)s?\b|\bcompare\b[^?]{0,30}\b(costs?|prices?|pricing)\b|\bdiscounts?\b",
    re.I,
)
_TIME_ASK = re.compile(
    r"\bminimum number of (days|weeks)\b|\bhow many (working |calendar |business )?(days|weeks|months|years)\b|\bdeadline\b"
    r"|\bhow long (must|do|does|should|are|is|have)\b[^?]{0,60}\b(keep|retain|store|hold|archive)\b"
    r"|\b(within|after|before|in) how (many|long)\b|\b(notice|retention|standstill|cooling-off) period\b",
    re.I,
)
_DATE_ASK = re.compile(
    r"\b(from|by|on|since|until) what date\b|\bwhat date\b|\bby when\b|\b(what|which) year\b|\b(effective|commencement) date\b|\bwhen (do|does|did|will)\b[^?]{0,80}\b(come|came) into force\b"
    r"|\bwhen (do|does|will)\b[^?]{0,80}\b(start|begin) (to )?apply(ing)?\b|\b(enter|entered|take|took) (into force|effect)\b",
    re.I,
)
_DATE = re.compile(r"\b(19|20)\d\d\b|\b(january|february|march|april|may|june|july|august|september|october|november"
                   r"|december)\b", re.I)
_NUMBER = re.compile(r"\d[\d,.]*\d|\d")
_MONEY = re.compile(r"[£€$]\s?\d|\d[\d,.]*\s?(pounds|euros|dollars|usd|eur|gbp|million|billion)\b", re.I)
_DURATION = re.compile(r"\b\d+\s?(days|weeks|months)\b", re.I)

_SOURCE = r"(guide|guidance|principles|toolkit|chapter|report|ocp|document|case stud(y|ies)|playbook|section|example)"
_REPORTING = (r"(says|say|states|requires|require|mandates|recommends|gives|lets|let|made|makes|allowed?|tells|advises|claims"
              r"|wants|urges|insists|argues)")
_CLAIM = re.compile(r"^.*?\b(says|say|states|requires|mandates|recommends|gives|lets|let)\b\s*(that\s+)?", re.I)  # its prefix
_NAMED = re.compile(r"['\"‘“]([^'\"’”]{2,40})['\"’”]|(?<=\w )([A-Z][\w-]+)")  # quoted, or capitalised mid-sentence
_ACCORDING = re.compile(rf"^\s*according to\s+(the\s+)?[^,]{{0,40}}\b({_SOURCE})\b[^,]{{0,30}},\s*(?P<claim>[^?]{{8,}})", re.I)
# a sentence that asks for something rather than states it ("Explain why the guide is so cautious...")
_REQUEST = re.compile(r"^\W*(please\s+)?(explain|summari[sz]e|list|tell|describe|give|show|outline|compare|help|what|how|why|when"
                      r"|where|who|which|does|do|is|are|can|could|should|would|will)\b", re.I)
_TAG = re.compile(r",?\s*\b(right|correct|yes|no|true|isn'?t (it|that)|aren'?t they|don'?t they|doesn'?t it)\s*\?$", re.I)
# a named law, contract or code the question turns on ("Under the National Audit Act 1983, ...")
_INSTRUMENT = re.compile(
    r"\b(?i:under|according to|in line with|comply(ing)? with)\s+(?i:the\s+)?(?P<law>(?:[A-Z][\w'’.-]*\s+){0,6}"
    r"(?:Act|Regulations?|Directive|Law|Code|Contract|Rules|Statute|Ordinance)\b(?:\s+\d{4})?)"
)
# "the World Bank wrote the guide", "the guide was written by the World Bank"
_AUTHOR = re.compile(r"\b(?P<who>(?:[A-Z][\w&'’-]*\s+){0,4}[A-Z][\w&'’-]*)\s+(wrote|authored|published|produced)\b"
                     r"|\b(written|authored|published|produced) by\s+(the\s+)?(?P<who2>(?:[A-Z][\w&'’-]*\s*){1,5})")
_MYTH = re.compile(r"^\s*myths?\s*[:-]\s*", re.I)
_NEGATION = re.compile(
    r"\b(not|never|no|none|nothing|neither|nor|without)\b|n['’]t\b|\bun(?!der|til|iqu|ion|it|iv|les)[a-z]{3,}", re.I)
_ATTRIBUTED = re.compile(
    rf"\b({_SOURCE}|principle \d+)\b[^.?!]{{0,40}}\b({_REPORTING}|suggests?|recommend|state|tell|advise|claim|want|urge|argue|lists?"
    rf"|includes?|calls?|names?|mentions?|is|are|was|were|has|have)\b",
    re.I,
)
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


def nearest_topics(passages: list[Passage], n: int = RefusalSettings.nearest_topics) -> list[str]:
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

    def __init__(self, judge, settings: RefusalSettings = RefusalSettings(), known=None):
        self.judge = judge
        self.known = known or (lambda term: True)  # stemmed word -> does the guidance use it anywhere
        self.settings = settings

    def check(self, question: str, passages: list[Passage]) -> Verdict:
        nearest = nearest_topics(passages, self.settings.nearest_topics)
        if _INSTRUCTION.search(question) or _INSTRUCTION.search(question.translate(_LEET)) or _ENCODED.search(question):
            return Verdict(True, "I answer questions from the guidance; I don't follow instructions to change how I work.", nearest)
        if _TASK.search(question):
            return Verdict(True, "That is a task outside the guidance, which covers how to buy AI in the public sector.", nearest)
        if _PRODUCT_PICK.search(question):
            return Verdict(True, "The guidance does not recommend or compare specific products or vendors.", nearest)
        if not passages:
            return Verdict(True, "Nothing in the guidance matches this question.", nearest)
        similarities = [p.similarity for p in passages if p.similarity is not None]
        if similarities and max(similarities) < self.settings.min_similarity:  # keyword-only search has none
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
        seen = _plain(" ".join(p.text for p in passages))
        law = _INSTRUMENT.search(question)
        if law and _plain(law.group("law")) not in seen:
            return Verdict(True, f"The guidance does not cover the {law.group('law').strip()} or what it requires.", nearest)
        for quoted, _ in _NAMED.findall(question):
            words = quoted.split()
            if (len(words) >= 2 and all(w[:1].isupper() for w in words) and _plain(quoted) not in seen
                    and not all(self.known(t) for t in tokenize(quoted))):
                return Verdict(True, f"The guidance does not mention “{quoted}”.", nearest)
        for premise in _premises(question):
            reason = self._unsupported(premise, passages)
            if reason:
                return Verdict(True, reason, nearest)
        return Verdict(False, "", nearest)


    def _unsupported(self, premise: str, passages: list[Passage]) -> str:
        """Why the guidance does not say `premise` ("" when it does).

        A heading is guidance too, except a myth's ("Myth: Open source AI is
        always safer"), which the guidance rejects: a premise about the myth it
        matches best is refused when it repeats it and accepted when it denies
        it. Otherwise it needs a passage that supports it, and no figure, name
        or author the passages do not give."""
        headings = [p.section.split(" > ")[-1] for p in passages]
        myths = [_MYTH.sub("", h).strip(" \"“”") for h in headings if _MYTH.match(h)]
        score, myth = max(((self.judge.support(premise, m), m) for m in myths), default=(0.0, ""))
        if score >= self.settings.myth_support:
            return f"The guidance calls that a myth: “{myth}”" if _negated(premise) == _negated(myth) else ""
        texts = [p.text if _MYTH.match(h) else f"{h}\n{p.text}" for h, p in zip(headings, passages)]
        stated = {n for text in texts for n in _NUMBER.findall(text)}
        named = [t for quoted, capital in _NAMED.findall(premise) for t in tokenize(quoted or capital)]
        author = _AUTHOR.search(premise)
        if (max((self.judge.support(premise, text) for text in texts), default=0.0) < self.settings.premise_support
                or set(_NUMBER.findall(premise)) - stated  # a figure it never gives
                or not all(self.known(t) for t in named)  # a name it never uses ("Principle 4, 'Prosperity'")
                or (author and not _published_by(author.group("who") or author.group("who2"), passages))):
            return f"The guidance does not say that {premise.strip().rstrip('.')}."
        return ""


def _plain(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


def _published_by(who: str, passages: list[Passage]) -> bool:
    """Whether `who` (an organisation a premise says wrote something) publishes any of the passages."""
    return any(_plain(who) in _plain(f"{p.provenance.publisher} {p.title}") for p in passages)


def _negated(text: str) -> bool:
    return len(_NEGATION.findall(text)) % 2 == 1


def _premises(question: str) -> list[str]:
    """What the question takes the guidance to say: a "Since the guide says X," clause, and any statement
    (not a question) that has the guidance say or be something ("The guide's three pathways are ...")."""
    out = []
    match = _PREMISE.search(question)
    if match:
        premise = match.group("premise") or match.group("premise2") or match.group("premise3")
        out.append(_CLAIM.sub("", premise, count=1) or premise)
    for s, e in sentence_spans(question):
        sentence = question[s:e].strip()
        according = _ACCORDING.match(sentence)
        if according and not _REQUEST.match(according.group("claim")):
            out.append(according.group("claim"))
        else:  # a statement, or one with a tag ("The principles are twelve, right?"; a myth the user holds is a question)
            sentence = _TAG.sub("", sentence)
            if (not sentence.endswith("?") and not _REQUEST.match(sentence) and _ATTRIBUTED.search(sentence)
                    and not (match and match.start() < e and s < match.end())):
                out.append(sentence)
    return out


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
