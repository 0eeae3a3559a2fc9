"""What POST /api/ask accepts: the body read within a size limit, its fields checked, each mistake a one-line 400.

Every check names the field, so a client sees what to fix: `{"error":
"history: must be a list of {\"question\", \"answer\"} objects"}` rather than
a 500 and a traceback in the server's log.
"""

from __future__ import annotations

import json

from corpus.records import Query, Scope, Turn

SHAPE = "the body must be a JSON object with a 'question'"


class BadRequest(ValueError):
    """A request the API refuses: `status` (400 or 413) and a one-line message naming the field."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


DRAIN = 8  # a refused body up to this many times the limit is read to its end before the 413 is sent


async def read_json(request, limit: int):
    """The request's JSON body; BadRequest(413) past `limit` bytes (by its Content-Length, or as it streams in),
    BadRequest(400) for a body that is not JSON or is nested too deeply to read."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        if int(declared) <= DRAIN * limit:
            await _drain(request, 0, limit)
        raise BadRequest(f"the body is {int(declared):,} bytes; the limit is {limit:,}", 413)
    body = bytearray()
    async for part in request.stream():
        body += part
        if len(body) > limit:
            await _drain(request, len(body), limit)
            raise BadRequest(f"the body is over the limit of {limit:,} bytes", 413)
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise BadRequest(SHAPE) from None
    except RecursionError:
        raise BadRequest("the body is nested too deeply to read: " + SHAPE) from None


async def _drain(request, read: int, limit: int) -> None:
    """Read and drop the rest of a body refused as too large, up to DRAIN times the limit, so that the client,
    still sending, reads the 413 rather than a connection reset (urllib: "Broken pipe")."""
    try:
        async for part in request.stream():
            read += len(part)
            if read > DRAIN * limit:
                return
    except Exception:  # noqa: BLE001 (a stream already read or a client gone: nothing left to drop)
        return


def parse_ask(body) -> Query:
    """The question, conversation and scope of a POST /api/ask body, or BadRequest naming the field."""
    if not isinstance(body, dict) or "question" not in body:
        raise BadRequest(SHAPE)
    if not isinstance(body["question"], str):
        raise BadRequest("question: must be text")
    history = body.get("history")
    if history is None:
        history = []
    if not isinstance(history, list) or not all(
            isinstance(t, dict) and isinstance(t.get("question", ""), str) and isinstance(t.get("answer", ""), str)
            for t in history):
        raise BadRequest('history: must be a list of {"question", "answer"} objects with text values')
    turns = tuple(Turn(t.get("question", ""), t.get("answer", "")) for t in history)
    return Query(body["question"], turns, Scope.of(_names(body, "collection"), _names(body, "doc")))


def _names(body: dict, field: str) -> list[str]:
    """A scope field: absent or null, a name, or a list of names."""
    value = body.get(field)
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) and v for v in value):
        return value
    raise BadRequest(f"{field}: must be a name or a list of names (GET /api/documents lists them)")
