"""The web app: the chat at /, the JSON API at POST /api/ask, and the presenter view at /present."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import anyio
import gradio as gr
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.security import HTTPBasic, HTTPBasicCredentials

from assistant.deck import Slide
from assistant.llm import LLMError
from assistant.service import Assistant, QuestionError
from assistant.web import presenter
from assistant.web.chat import CSS, HEAD, build_ui
from corpus.records import Scope, Turn
from corpus.settings import ServerSettings
from index.store import StoreError
from ingest.pdfpage import PdfError, render_page


def _login(auth: tuple[str, str] | None):
    """A dependency requiring HTTP Basic USER:PASSWORD when the chat has a login (none otherwise)."""
    basic = HTTPBasic(auto_error=False)

    def check(credentials: HTTPBasicCredentials | None = Depends(basic)) -> None:
        if auth is None:
            return
        if credentials is None or not (secrets.compare_digest(credentials.username, auth[0])
                                       and secrets.compare_digest(credentials.password, auth[1])):
            raise HTTPException(401, "login required", headers={"WWW-Authenticate": 'Basic realm="procure-ai"'})

    return check


def build_app(assistant: Assistant, server: ServerSettings = ServerSettings(), feedback=None,
              slides: list[Slide] | None = None, deck_name: str = ""):
    """A FastAPI app: the chat at /, the JSON API at POST /api/ask, the presenter view of `slides` at /present.

    With `server.auth` (USER:PASSWORD), the chat asks for that login and the API and the presenter view require
    it as HTTP Basic credentials.
    """
    auth = tuple(server.auth.split(":", 1)) if server.auth else None
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    answering = anyio.CapacityLimiter(server.concurrency)  # answers at once on the API too; the rest wait in turn
    login = Depends(_login(auth))

    @app.post("/api/ask", dependencies=[login])
    async def api_ask(request: Request):
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            return JSONResponse({"error": "the body must be a JSON object with a 'question'"}, status_code=400)
        if not isinstance(body, dict) or not isinstance(body.get("question"), str):
            return JSONResponse({"error": "the body must be a JSON object with a 'question'"}, status_code=400)
        history = tuple(Turn(str(t.get("question", "")), str(t.get("answer", ""))) for t in body.get("history") or [] if isinstance(t, dict))
        scope = Scope.of(body.get("collection"), body.get("doc"))
        try:
            answer = await anyio.to_thread.run_sync(lambda: assistant.ask(body["question"], history=history, scope=scope),
                                                    limiter=answering)
        except QuestionError as exc:
            return JSONResponse({"question": body["question"][:200], "error": str(exc)}, status_code=400)
        except (StoreError, LLMError) as exc:  # the index's store or the LLM is down: say so, and recover when it is back
            return JSONResponse({"question": body["question"][:200], "error": str(exc)}, status_code=503)
        return JSONResponse(answer.to_dict())

    @app.get("/page/{doc_id:path}/{number:int}.png", dependencies=[login])
    async def pdf_page(doc_id: str, number: int, quote: str = ""):
        """A cited PDF page as an image, the quote highlighted (only documents in the index, by their id)."""
        entry = assistant.catalog().documents.get(doc_id)
        if entry is None or not str(entry.path).lower().endswith(".pdf"):
            return JSONResponse({"error": f"no PDF with the id {doc_id[:200]!r} in the index"}, status_code=404)
        try:
            png = await anyio.to_thread.run_sync(lambda: render_page(Path(entry.path), number, quote[:2000]),
                                                 limiter=answering)
        except PdfError as exc:
            return JSONResponse({"error": str(exc)}, status_code=404)
        return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})

    presenter_page = presenter.page(slides, deck_name)  # prepared once: presenting never calls the model

    @app.get("/present", response_class=HTMLResponse, dependencies=[login])
    def present():
        return HTMLResponse(presenter_page)

    demo = build_ui(assistant, feedback, server).queue(default_concurrency_limit=server.concurrency,
                                                      max_size=server.max_queue)
    return gr.mount_gradio_app(app, demo, path="/", auth=auth, css=CSS, head=HEAD, footer_links=[],
                               theme=gr.themes.Default(text_size="lg"))
