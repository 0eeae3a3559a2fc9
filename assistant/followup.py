"""Makes a follow-up question standalone before retrieval, from the conversation so far."""

from __future__ import annotations

import re

from corpus.settings import ConversationSettings

_DEPENDENT = re.compile(
    r"^\s*(and|but|so|or|also|what about|how about|and if|what if|then|same for|does that|is that|would that)\b"
    r"|\b(it|its|it's|that|this|they|them|those|these|there|one)\b",
    re.I,
)


def standalone_question(question: str, history: list, settings: ConversationSettings = ConversationSettings(),
                        needs_history=None) -> str:
    """The question, with the previous question before it when it cannot be understood alone.

    `needs_history(question, previous)` is the judge's probability that it
    cannot (assistant/judge/model.py), read against `settings.followup`: it
    tells "And who signs that off?" from "What is a hallucination?" however
    short either is. Without a judge, a rule decides: a follow-up shorter than
    `short_question_words` words, or one that starts like a continuation ("and
    if...", "what about...") or refers back ("it", "that", "those"), leans on
    the question before it.
    """
    if not history:
        return question
    previous = history[-1].question.strip()
    if not previous:
        return question
    if needs_history is not None:
        leans = needs_history(question, previous) >= settings.followup
    else:
        leans = len(question.split()) < settings.short_question_words or bool(_DEPENDENT.search(question))
    return f"{previous} {question}" if leans else question
