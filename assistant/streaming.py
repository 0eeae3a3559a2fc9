"""An answer as it arrives: partial texts while it is written, then the verified `Answer`.

The LLM answerer's tokens come through `Assistant.ask(on_token=...)` on a worker
thread. The offline answerer has no tokens, so its composed answer is revealed a few
words at a time, in at most `steps` steps within `reveal_seconds`.
Either way the last step carries the verified answer, which replaces the
streamed text: verification may have removed or marked sentences.
"""

from __future__ import annotations

import queue
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

from assistant.llm import NOT_COVERED
from assistant.service import Assistant
from corpus.records import Answer, Scope, Turn

_DONE = object()


@dataclass
class Step:
    """One update of an answer being written: `text` so far; `answer` is set on the last step only."""

    text: str
    answer: Answer | None = None


def reveal_units(text: str, steps: int = 10) -> list[str]:
    """Growing prefixes of a composed answer, cut between words; the last is the whole text."""
    words = re.findall(r"\S+\s*", text)
    size = max(1, -(-len(words) // steps))
    return ["".join(words[: i + size]).rstrip() for i in range(0, len(words), size)]


def stream_answer(assistant: Assistant, question: str, history: tuple[Turn, ...] = (), scope: Scope = Scope(),
                  reveal_seconds: float = 0.5, min_interval: float = 0.04) -> Iterator[Step]:
    """Yield `Step`s: streamed text (throttled to one per `min_interval`), then the final answer.

    Raises what `Assistant.ask` raises (QuestionError, LLMError), from the caller's thread.
    """
    events: queue.Queue = queue.Queue()

    def work() -> None:
        try:
            events.put(assistant.ask(question, history=history, scope=scope, on_token=events.put))
        except BaseException as exc:  # re-raised below, in the caller's thread
            events.put(exc)
        finally:
            events.put(_DONE)

    threading.Thread(target=work, name="procure-ai-answer", daemon=True).start()
    streamed, last_yield, result = "", 0.0, None
    while (item := events.get()) is not _DONE:
        if isinstance(item, BaseException):
            raise item
        if isinstance(item, Answer):
            result = item
            continue
        streamed += item
        if time.monotonic() - last_yield >= min_interval and not NOT_COVERED.startswith(streamed.strip()[:11]):
            last_yield = time.monotonic()
            yield Step(streamed)
    if not streamed and not result.refused:  # offline: nothing streamed, reveal the composed text
        units = reveal_units(result.answer)[:-1]
        for text in units:
            yield Step(text)
            time.sleep(max(min_interval, reveal_seconds / max(len(units), 1)))
    yield Step(result.answer, result)
