"""The web app: the chat at /, the JSON API at POST /api/ask, and the presenter view at /present."""

from __future__ import annotations

import secrets
from pathlib import Path

import anyio
import gradio as gr
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.security import HTTPBasic, HTTPBasicCredentials

from assistant.deck import Slide
from assistant.llm import LLMError
from assistant.service import Assistant, QuestionError
from assistant.web import openai_api, presenter
from assistant.web.api import BadRequest, parse_ask, read_json
from assistant.web.chat import ASSETS, CSS, FONT, HEAD, build_ui
from assistant.web.texts import LANGUAGES, choose, texts
from corpus.settings import ServerSettings
from index.search import UnknownScope
from index.store import StoreError
from ingest.pdfpage import PdfError, render_page


def _login(auth: tuple[str, str] | None, chat: dict):
    """A dependency requiring the login when the chat has one (none otherwise): HTTP Basic USER:PASSWORD, or
    the session of the chat's own login page (`chat["app"]`, the mounted Gradio app), so a browser that signed
    in to the chat opens /present without being asked again."""
    basic = HTTPBasic(auto_error=False)

    def check(request: Request, credentials: HTTPBasicCredentials | None = Depends(basic)) -> None:
        if auth is None:
            return
        if credentials is not None and (secrets.compare_digest(credentials.username, auth[0])
                                        and secrets.compare_digest(credentials.password, auth[1])):
            return
        gradio_app = chat.get("app")
        if gradio_app is not None:
            cookie = f"access-token-{gradio_app.cookie_id}"
            token = request.cookies.get(cookie) or request.cookies.get(f"access-token-unsecure-{gradio_app.cookie_id}")
            if token and gradio_app.tokens.get(token) == auth[0]:
                return
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
    chat: dict = {}  # the mounted Gradio app, once mounted: its login sessions count as the login here too
    login = Depends(_login(auth, chat))
    openai_api.mount(app, assistant, server, answering)  # /v1: OpenAI-compatible clients (key or login)

    @app.post("/api/ask", dependencies=[login])
    async def api_ask(request: Request):
        try:
            query = parse_ask(await read_json(request, server.max_body_bytes))
        except BadRequest as exc:
            return JSONResponse({"error": str(exc)}, status_code=exc.status)
        question = query.question
        try:
            answer = await anyio.to_thread.run_sync(
                lambda: assistant.ask(question, history=query.history, scope=query.scope), limiter=answering)
        except QuestionError as exc:
            return JSONResponse({"question": question[:200], "error": str(exc)}, status_code=400)
        except UnknownScope as exc:
            what = "document" if exc.field == "doc" else "collection"
            return JSONResponse({"question": question[:200], "error": f"{exc.field}: no {what} "
                                 f"{', '.join(map(repr, exc.names))} in the index; GET /api/documents lists the "
                                 "documents by collection (or run procure-ai status)"}, status_code=400)
        except (StoreError, LLMError) as exc:  # the index's store or the LLM is down: say so, and recover when it is back
            return JSONResponse({"question": question[:200], "error": str(exc)}, status_code=503)
        return JSONResponse(answer.to_dict())

    @app.get("/api/documents", dependencies=[login])
    def api_documents():
        """The valid `collection` and `doc` values of POST /api/ask: each collection's documents (id, title)."""
        collections: dict[str, list[dict]] = {}
        for doc_id, doc in sorted(assistant.catalog().documents.items()):
            collections.setdefault(doc.collection, []).append({"doc": doc_id, "title": doc.title})
        return JSONResponse({"collections": collections})

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

    # prepared once per language: presenting never calls the model
    presenter_pages = {lang: presenter.page(slides, deck_name, texts(lang)) for lang in LANGUAGES}

    @app.get("/present", response_class=HTMLResponse, dependencies=[login])
    def present(request: Request, lang: str | None = None):
        """The presenter view in the language asked for (?lang=cy), else the browser's."""
        return HTMLResponse(presenter_pages[choose(lang, request.headers.get("accept-language"))],
                            headers={"Vary": "Accept-Language"})

    fonts = {p.name: p for p in (ASSETS / "fonts").glob("*.woff")}

    @app.get("/fonts/{name}")  # the one font family of the chat and the presenter view, served here (no login: it is public)
    def font(name: str):
        if name not in fonts:
            raise HTTPException(404, "no such font")
        return FileResponse(fonts[name], media_type="font/woff", headers={"Cache-Control": "public, max-age=604800"})

    demo = build_ui(assistant, feedback, server).queue(default_concurrency_limit=server.concurrency,
                                                      max_size=server.max_queue)
    app = gr.mount_gradio_app(app, demo, path="/", auth=auth, css=CSS, head=HEAD, footer_links=[],
                              theme=gr.themes.Default(text_size="lg", font=FONT, font_mono=FONT))
    chat["app"] = next(r.app for r in app.routes if getattr(r, "path", None) == "" and hasattr(r.app, "tokens"))
    return app
