"""Makes a follow-up question standalone before retrieval, from the conversation so far."""

from __future__ import annotations

import re

from corpus.settings import ConversationSettings

_DEPENDENT = re.compile(
    r"^\s*(and|but|so|or|also|what about|how about|and if|what if|then|same for|does that|is that|would that)\b"
    r"|\b(it|its|it's|that|this|they|them|those|these|there|one)\b",
    re.I,
)


def standalone_question(question: str, history: list,
                        short_words: int = ConversationSettings.short_question_words) -> str:
    """The question, with the previous question prepended when it leans on it.

    A follow-up leans on the conversation when it is short (under `short_words` words) or
    starts like a continuation ("and if...", "what about...") or refers back
    ("it", "that", "those"). Deterministic: the offline path needs no LLM.
    """
    if not history:
        return question
    previous = history[-1].question.strip()
    words = question.split()
    if previous and (len(words) < short_words or _DEPENDENT.search(question)):
        return f"{previous} {question}"
    return question
