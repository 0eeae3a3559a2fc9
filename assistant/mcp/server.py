"""`procure-ai mcp`: the guidance as MCP tools and resources, over stdio (the only module that imports mcp).

Two tools: `search_guidance` returns passages with everything needed to cite
them, and `ask` returns the assistant's checked, cited answer (or its refusal)
as structured content. Each document of the index is a resource. The
descriptions are written for an assistant that has never seen this corpus: what
it is, when to use which tool, and how to pass the citations on to the person
asking. Every `ask` is recorded in the audit log when the assistant is audited.
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Annotated, Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.resources import FunctionResource
from mcp.types import CallToolResult, TextContent
from pydantic import BaseModel, ConfigDict, Field

from assistant.llm import LLMError
from assistant.plaintext import answer_record, citation_label, citation_url, with_sources, without_sources
from assistant.service import QuestionError, check_question
from corpus.records import Citation, DocumentEntry, Scope, Turn
from corpus.settings import ServerSettings
from index.search import IndexNotReady
from index.store import StoreError

FAILURES = (QuestionError, StoreError, LLMError, IndexNotReady)

INSTRUCTIONS = """This server answers questions about buying (procuring) AI in the public sector from a fixed set of
published guidance documents{holding}. It does not know anything else, and it never makes up an answer: every
sentence it returns is taken from or checked against a passage of the guidance, marked [n], and each [n] comes
with the document, section, page, publisher, licence and a link to the published source. Use `ask` for a
question a procurement officer would ask (who to involve, what a contract should say, how to evaluate
vendors, how to involve the public); use `search_guidance` to read the passages themselves. When you pass an
answer on, keep its [n] markers and list the sources with their links. If it says the guidance does not cover
a question, say so rather than answering from elsewhere."""

ASK = """Ask the public guidance on procuring AI a question and get a short answer built from its passages, each
sentence marked [n] with the passage it comes from. Use it for practical questions about buying AI in the public
sector: planning, who to involve, market engagement, solicitation and evaluation, contract clauses (data, IP,
liability, exit), contract management, risks and myths, and involving residents and workers.{holding}
Pass `history` (the earlier questions and answers of this conversation) so a follow-up such as "and if it's off
the shelf?" is understood. Optionally restrict to one `collection` or one document id `doc`.
The result's `citations` hold, for each [n]: doc_id, title, section, page, url, publisher, license and the
passage `text` with the `quote` the answer relies on. `refused` is true when the guidance does not cover the
question (or it asks for something else, such as a price or a letter): then `answer` says so and names the
nearest topics it does cover; do not answer from other knowledge in its name."""

SEARCH = """Search the public guidance on procuring AI and return the passages that best match `query`
(plain words work best: "contract clauses on data ownership"), best first, each with its document, section,
page, publisher, licence, url and full text, so you can quote and cite it. `k` is how many passages (1 to
{most}, default 5). Optionally restrict to one `collection` or one document id `doc`.{holding}
Use `ask` instead when you want a checked answer with citations rather than raw passages."""


class HistoryTurn(BaseModel):
    """One earlier exchange: the question, and the answer it got."""

    question: str
    answer: str = ""


class CitedPassage(BaseModel):
    model_config = ConfigDict(extra="allow")
    rank: int
    doc_id: str
    title: str
    section: str
    page: int | None
    url: str
    text: str
    cite_as: str = Field(description="how to name this passage when citing it: 'Title › section, p. N'")


class SearchResult(BaseModel):
    query: str
    passages: list[CitedPassage]


class AskCitation(BaseModel):
    model_config = ConfigDict(extra="allow")
    n: int
    doc_id: str
    title: str
    section: str
    page: int | None
    url: str
    publisher: str
    license: str
    text: str
    quote: str


class AskResult(BaseModel):
    model_config = ConfigDict(extra="allow")  # whatever else the answer's JSON holds (sentences, timings, ...)
    question: str
    answer: str
    refused: bool
    citations: list[AskCitation]


def _holding(collections: list[str]) -> str:
    return f" (collections: {'; '.join(collections)})" if collections else ""


def document_text(index, entry: DocumentEntry) -> str:
    """A document as the index holds it: a line naming its source, then its passages in order with the gaps
    between them; the headings above the first passage come from its section path."""
    stored = {p.id: p for p in index.passages(list(entry.chunk_ids))}
    passages = [stored[cid] for cid in entry.chunk_ids if cid in stored]
    body = "".join(p.metadata.get("gap", "") + p.text for p in passages)
    if passages and int(passages[0].metadata.get("start", 0)) > 0 and passages[0].metadata.get("section"):
        parts = passages[0].metadata["section"].split(" > ")
        body = "".join(f"{'#' * level} {part}\n\n" for level, part in enumerate(parts, start=1)) + body
    source = ", ".join(x for x in (entry.provenance.publisher, entry.provenance.url, entry.provenance.license) if x)
    return f"Source: {entry.title or entry.doc_id}" + (f" — {source}" if source else "") + "\n\n" + body


def build_server(assistant, index, server: ServerSettings = ServerSettings()) -> MCPServer:
    """The MCP server over `assistant` (audited or not) and its `index` (for the documents as resources)."""
    catalog = assistant.catalog()
    collections = sorted({d.collection for d in catalog.documents.values() if d.collection})
    holding = _holding(collections)
    app = MCPServer("procure-ai", title="Buying AI: answers from public guidance", version="0.1.0",
                    instructions=INSTRUCTIONS.format(holding=holding), log_level="WARNING")

    def scope(collection: str | None, doc: str | None) -> Scope:
        documents = assistant.catalog().documents
        known = sorted({d.collection for d in documents.values() if d.collection})
        if collection and collection not in known:
            raise ToolError(f"no collection {collection!r}; the collections are: {'; '.join(known)}")
        if doc and doc not in documents:
            raise ToolError(f"no document {doc!r}; the documents are listed as resources (procure-ai://document/ID)")
        return Scope.of(collection, doc)

    @app.tool(description=SEARCH.format(most=server.max_passages, holding=holding))
    def search_guidance(query: str, k: int = 5, collection: str | None = None,
                        doc: str | None = None) -> Annotated[CallToolResult, SearchResult]:
        if not 1 <= k <= server.max_passages:
            raise ToolError(f"k must be between 1 and {server.max_passages}")
        try:
            query = check_question(query, assistant.answers.max_question_chars)
            passages = assistant.searcher.search(query, k, scope(collection, doc))
        except FAILURES as exc:
            raise ToolError(str(exc)) from None
        found = []
        for p in passages:
            cited = Citation.from_passage(p.rank, p)
            record = {key: value for key, value in p.to_dict().items() if key != "signals"}
            found.append({**record, "url": citation_url(cited), "cite_as": citation_label(cited)})
        text = "\n\n".join(f"[{r['rank']}] {r['cite_as']} — {r['url']}\n{r['text']}" for r in found)
        return CallToolResult(content=[TextContent(type="text", text=text or "No passage matched.")],
                              structured_content={"query": query, "passages": found})

    @app.tool(name="ask", description=ASK.format(holding=holding))
    def ask_tool(question: str, history: list[HistoryTurn] | None = None, collection: str | None = None,
                 doc: str | None = None) -> Annotated[CallToolResult, AskResult]:
        turns = tuple(Turn(t.question, without_sources(t.answer)) for t in history or [])
        try:
            answer = assistant.ask(question, history=turns, scope=scope(collection, doc))
        except FAILURES as exc:
            raise ToolError(str(exc)) from None
        return CallToolResult(content=[TextContent(type="text", text=with_sources(answer))],
                              structured_content=answer_record(answer))

    for entry in catalog.documents.values():
        app.add_resource(FunctionResource.from_function(
            fn=lambda entry=entry: document_text(index, entry), uri=f"procure-ai://document/{entry.doc_id}",
            name=entry.doc_id, title=entry.title or entry.doc_id,
            description=" · ".join(x for x in (entry.collection, entry.provenance.publisher, entry.provenance.license,
                                              entry.provenance.url) if x),
            mime_type="text/markdown" if entry.kind == "markdown" else "text/plain"))
    return app


@contextlib.contextmanager
def stdout_to_stderr():
    """While loading, whatever prints (a library's notice, a progress bar) goes to stderr: stdout is the protocol."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def serve_stdio(app: MCPServer) -> None:
    """Answer MCP requests on stdin/stdout until the client closes them."""
    app.run("stdio")
