"""The OpenAI-compatible API on serve: GET /v1/models and POST /v1/chat/completions, with the citations kept.

Chat apps an organisation already runs (Open WebUI, LibreChat, `llm`) talk to
it as to any OpenAI-style model. The last user message is the question and the
earlier turns its conversation; the model name picks what is searched
(`procure-ai`, or `procure-ai:<collection>`). The reply text keeps the [n]
markers and lists the sources after the answer; the message also carries each
marker as a `url_citation` annotation (offsets into the text) and the full
citation records under `procure_ai`. Streamed, the text arrives in pieces of
the checked answer (an LLM's raw tokens are not sent: the check may still
remove or mark a sentence), and the last chunk carries the annotations and
records. Errors use OpenAI's error shape, so clients show their message.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
import time
import uuid

import anyio
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, StreamingResponse

from assistant.llm import LLMError
from assistant.plaintext import answer_record, citation_label, citation_spans, citation_url, with_sources, without_sources
from assistant.service import QuestionError
from assistant.streaming import reveal_units
from corpus.records import Answer, Scope, Turn
from corpus.settings import ServerSettings
from index.search import IndexNotReady
from index.store import StoreError

MODEL = "procure-ai"


class APIError(Exception):
    """A request the API answers with an OpenAI-style error."""

    def __init__(self, status: int, message: str, kind: str = "invalid_request_error", code: str | None = None,
                 param: str | None = None):
        super().__init__(message)
        self.status, self.body = status, {"error": {"message": message, "type": kind, "param": param, "code": code}}


def _require_key_or_login(server: ServerSettings):
    """A dependency: `Authorization: Bearer <api key>` or the serve login as HTTP Basic (open when neither is set)."""
    login = tuple(server.auth.split(":", 1)) if server.auth else None

    def check(request: Request) -> None:
        if login is None and server.api_key is None:
            return
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        value = value.strip()
        if scheme.lower() == "bearer" and server.api_key and secrets.compare_digest(value.encode(), server.api_key.encode()):
            return
        if scheme.lower() == "basic" and login:
            try:
                user, _, password = base64.b64decode(value, validate=True).decode("utf-8").partition(":")
            except (binascii.Error, UnicodeDecodeError):
                user, password = "", ""
            if secrets.compare_digest(user.encode(), login[0].encode()) and secrets.compare_digest(password.encode(), login[1].encode()):
                return
        offered = " or ".join(x for x in ("an API key (Authorization: Bearer KEY)" if server.api_key else "",
                                         "the login (HTTP Basic)" if login else "") if x)
        raise APIError(401, f"this server requires {offered}", code="invalid_api_key")

    return check


def slug(collection: str) -> str:
    """A collection's name as it appears in a model id: "Buying AI: Tips…" -> "buying-ai-tips…"."""
    return re.sub(r"[^a-z0-9]+", "-", collection.lower()).strip("-")


def _collections(assistant) -> list[str]:
    return sorted({d.collection for d in assistant.catalog().documents.values() if d.collection})


def scope_of(model: str, collections: list[str]) -> Scope:
    """The part of the guidance a model id names; APIError 404 for a model this server does not have."""
    name, _, wanted = (model or MODEL).partition(":")
    if name == MODEL and not wanted:
        return Scope()
    for collection in collections:
        if name == MODEL and wanted in (collection, slug(collection)):
            return Scope.of(collection)
    known = ", ".join([MODEL] + [f"{MODEL}:{slug(c)}" for c in collections])
    raise APIError(404, f"no model {model!r} here; the models are {known}", code="model_not_found", param="model")


def _text(content) -> str:
    """A message's text: a string, or OpenAI's content parts ([{"type": "text", "text": ...}, ...])."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")
    return ""


def conversation(messages) -> tuple[str, tuple[Turn, ...]]:
    """(question, earlier turns) from a messages list; system and tool messages are ignored (the guidance answers)."""
    if not isinstance(messages, list) or not messages or not all(isinstance(m, dict) for m in messages):
        raise APIError(400, "'messages' must be a non-empty list of {role, content} objects", param="messages")
    if messages[-1].get("role") != "user":
        raise APIError(400, "the last message must be the user's question", param="messages")
    turns: list[Turn] = []
    for message in messages[:-1]:
        role, text = message.get("role"), _text(message.get("content"))
        if role == "user":
            turns.append(Turn(text))
        elif role == "assistant" and turns and not turns[-1].answer:
            turns[-1] = Turn(turns[-1].question, without_sources(text))
    return _text(messages[-1].get("content")), tuple(turns)


def annotations(answer: Answer) -> list[dict]:
    """Each [n] of the answer as OpenAI's `url_citation` annotation: the marker's offsets, the source's URL and title."""
    return [{"type": "url_citation", "url_citation": {"url": citation_url(c), "title": citation_label(c),
                                                      "start_index": start, "end_index": end}}
            for start, end, c in citation_spans(answer)]


def records(answer: Answer) -> dict:
    """What the message carries under `procure_ai`: the answer's own JSON, less the text and the retrieved passages."""
    return answer_record(answer, drop=("answer", "retrieved"))


def _usage(messages: list, content: str) -> dict:
    """Word counts, not tokens: there is no tokenizer to bill by, but clients expect the field."""
    asked = sum(len(_text(m.get("content")).split()) for m in messages)
    written = len(content.split())
    return {"prompt_tokens": asked, "completion_tokens": written, "total_tokens": asked + written}


def completion(answer: Answer, model: str, messages: list) -> dict:
    content = with_sources(answer)
    message = {"role": "assistant", "content": content, "refusal": None, "annotations": annotations(answer),
               "procure_ai": records(answer)}
    return {"id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion", "created": int(time.time()),
            "model": model, "choices": [{"index": 0, "message": message, "finish_reason": "stop", "logprobs": None}],
            "usage": _usage(messages, content)}


def chunks(answer: Answer, model: str, messages: list, include_usage: bool):
    """The server-sent events of a streamed completion: the role, the text in pieces, then the citations."""
    head = {"id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion.chunk", "created": int(time.time()),
            "model": model}

    def event(delta: dict, finish: str | None = None, **extra) -> str:
        choice = {"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}
        return "data: " + json.dumps({**head, "choices": [choice], **extra}, ensure_ascii=False) + "\n\n"

    content, sent = with_sources(answer), ""
    yield event({"role": "assistant", "content": ""})
    for prefix in reveal_units(content):
        yield event({"content": prefix[len(sent):]})
        sent = prefix
    if sent != content:  # whitespace the pieces left off the end
        yield event({"content": content[len(sent):]})
    yield event({"annotations": annotations(answer), "procure_ai": records(answer)}, "stop")
    if include_usage:
        yield "data: " + json.dumps({**head, "choices": [], "usage": _usage(messages, content)}) + "\n\n"
    yield "data: [DONE]\n\n"


def openai_router(assistant, server: ServerSettings = ServerSettings(), answering: anyio.CapacityLimiter | None = None) -> APIRouter:
    """The /v1 routes over `assistant` (recorded under the "openai" channel when it is audited); `answering`
    is the limit on answers at once that the rest of serve shares."""
    assistant = assistant.via("openai") if hasattr(assistant, "via") else assistant
    answering = answering or anyio.CapacityLimiter(server.concurrency)
    router = APIRouter(dependencies=[Depends(_require_key_or_login(server))])

    @router.get("/v1/models")
    def models():
        ids = [MODEL] + [f"{MODEL}:{slug(c)}" for c in _collections(assistant)]
        return {"object": "list", "data": [{"id": i, "object": "model", "created": 0, "owned_by": "procure-ai"} for i in ids]}

    @router.post("/v1/chat/completions")
    async def chat_completions(request: Request):
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise APIError(400, "the body must be a JSON object with 'model' and 'messages'") from None
        if not isinstance(body, dict):
            raise APIError(400, "the body must be a JSON object with 'model' and 'messages'")
        model = body.get("model") if isinstance(body.get("model"), str) else MODEL
        scope = scope_of(model, _collections(assistant))
        question, history = conversation(body.get("messages"))
        try:
            answer = await anyio.to_thread.run_sync(lambda: assistant.ask(question, history=history, scope=scope),
                                                    limiter=answering)
        except QuestionError as exc:
            raise APIError(400, str(exc), param="messages") from None
        except (StoreError, LLMError, IndexNotReady) as exc:  # down for now: clients retry a 503
            raise APIError(503, str(exc), kind="server_error") from None
        if body.get("stream") is True:
            usage = bool((body.get("stream_options") or {}).get("include_usage"))
            return StreamingResponse(chunks(answer, model, body["messages"], usage), media_type="text/event-stream")
        return JSONResponse(completion(answer, model, body["messages"]))

    return router


async def api_error(request: Request, exc: APIError) -> JSONResponse:
    """The exception handler serve installs for `APIError`."""
    headers = {"WWW-Authenticate": 'Bearer realm="procure-ai"'} if exc.status == 401 else None
    return JSONResponse(exc.body, status_code=exc.status, headers=headers)


def mount(app, assistant, server: ServerSettings, answering) -> None:
    """Add the /v1 routes to serve's app (before the chat takes the rest of the paths)."""
    app.add_exception_handler(APIError, api_error)
    app.include_router(openai_router(assistant, server, answering))
