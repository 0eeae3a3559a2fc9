"""What each `procure-ai` subcommand does: one library call and its rendering (eval and bench: evaluate.py)."""

from __future__ import annotations

import errno
import json
import os
import sys
from pathlib import Path

from assistant.cli.output import print_json, render_text
from assistant.llm import LLMError
from assistant.service import QuestionError
from corpus.manifest import ManifestError
from corpus.records import Query, Scope, Turn
from corpus.settings import Settings
from ingest.discover import InputError
from index.embedder import EmbedderError
from index.index import IndexBusy
from index.search import IndexNotReady, UnknownScope
from index.store import StoreError

USER_ERRORS = (
    ValueError,  # bad settings, QuestionError, InputError, ManifestError
    OSError,
    StoreError,
    IndexBusy,
    IndexNotReady,
    UnknownScope,
    EmbedderError,
    QuestionError,
    InputError,
    ManifestError,
    LLMError,
)


def ingest(args, settings: Settings) -> int:
    from tqdm import tqdm

    from assistant.factory import build_index
    from assistant.factory import ingest as run_ingest

    for path in args.paths:  # fail before loading the model
        if not Path(path).expanduser().exists():
            raise InputError(f"no such file or folder: {path}")
    index = build_index(settings)
    bars: dict[str, tqdm] = {}

    def progress(stage: str, done: int, total: int) -> None:
        if args.json or total < 50:
            return
        bar = bars.get(stage)
        if bar is None:
            bar = bars[stage] = tqdm(total=total, desc=stage, unit=" chunks" if stage == "embedding" else " files",
                                     file=sys.stderr, leave=False, disable=None)
        bar.n = done
        bar.refresh()

    report = run_ingest(settings, list(args.paths), index, progress, collection=args.collection)
    for bar in bars.values():
        bar.close()
    failed = not report.read and bool(report.skipped)  # every file it found was skipped: nothing could be read
    if args.json:
        print_json({**report.to_dict(), **({"error": "nothing could be read"} if failed else {})})
        return 1 if failed else 0
    print_report(report, "Indexed" if report.changed else "Index up to date:")
    for path, reason in sorted(report.skipped.items()):
        print(f"  skipped {path}: {reason}")
    for path, lines in sorted(report.flagged.items()):
        for line in lines:
            print(f"  warning {path}, {line.split(': ', 1)[0]}: text addressed to an AI assistant, never quoted "
                  f"in answers: {line.split(': ', 1)[1]}")
    if failed:
        print(f"procure-ai: error: nothing could be read from {', '.join(map(str, args.paths))} "
              f"({len(report.skipped)} skipped)", file=sys.stderr)
        return 1
    return 0


def print_report(report, verb: str) -> None:
    """The one-line summary of an ingest or a removal (and why the store was filled again, if it was)."""
    if report.refilled:
        print(f"Filling the store again: {report.refilled.rsplit(': run ', 1)[0]}")
    print(
        f"{verb} {report.documents} documents, {report.chunks} passages "
        f"({len(report.added_documents)} added, {len(report.changed_documents)} changed, "
        f"{len(report.removed_documents)} removed; {report.embedded_chunks} passages embedded) in {report.seconds:.1f} s"
    )


def remove(args, settings: Settings) -> int:
    from assistant.factory import build_index
    from index.update import remove as run_remove

    report = run_remove(build_index(settings), args.targets, args.collection)
    if args.json:
        print_json(report.to_dict())
    else:
        print_report(report, "Removed:")
        for doc_id in report.removed_documents:
            print(f"  removed {doc_id}")
    return 0


def _history(items) -> tuple[Turn, ...]:
    if not isinstance(items, list):
        raise QuestionError("history must be a list of {\"question\", \"answer\"} objects")
    return tuple(Turn(str(t.get("question", "")), str(t.get("answer", ""))) for t in items if isinstance(t, dict))


def _queries(args) -> list[tuple[Query | None, str | None, str]]:
    """(query, error, raw question) per input, in order. JSONL lines may carry history, collection, doc."""
    scope = Scope.of(args.collection, args.doc)
    if args.questions is None:
        if args.question is None:
            raise QuestionError("give a question, or --questions FILE.jsonl")
        question = sys.stdin.read() if args.question == "-" else args.question
        history: tuple[Turn, ...] = ()
        if args.history:
            try:
                history = _history(json.loads(Path(args.history).read_text(encoding="utf-8")))
            except json.JSONDecodeError as exc:
                raise QuestionError(f"{args.history} is not JSON ({exc.msg} at line {exc.lineno})") from None
        return [(Query(question, history, scope), None, question)]
    handle = sys.stdin if str(args.questions) == "-" else open(args.questions, encoding="utf-8")
    out = []
    with handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                question = item["question"]
                line_scope = Scope.of(item.get("collection") or args.collection, item.get("doc") or args.doc)
                out.append((Query(question, _history(item.get("history") or []), line_scope), None, question))
            except (json.JSONDecodeError, KeyError, TypeError, AttributeError, QuestionError) as exc:
                out.append((None, f"line {number}: not a JSON object with a 'question' ({type(exc).__name__})", ""))
    return out


def ask(args, settings: Settings) -> int:
    from assistant.factory import build_assistant
    from assistant.service import check_question

    queries = _queries(args)
    if args.questions is None:
        check_question(queries[0][0].question, settings.answers.max_question_chars)  # fail fast, before loading the model
    assistant = build_assistant(settings)
    failures = 0
    for query, error, raw in queries:
        if query is not None:
            try:
                answer = assistant.ask_many([query])[0]
            except QuestionError as exc:
                error = str(exc)
        if error:
            failures += 1
            if args.json:
                print_json({"question": raw, "error": error})
            else:
                print(f"procure-ai: error: {error}", file=sys.stderr)
            continue
        if args.json:
            print_json(answer.to_dict())
        else:
            print(render_text(answer))
    return 0 if not failures or args.questions else 2


def status(args, settings: Settings) -> int:
    from index.catalog import EMBEDDED, load_catalog
    from index.store import ChromaStore

    catalog = load_catalog(settings.data_dir)
    by_collection: dict[str, list[str]] = {}
    for doc_id, doc in sorted(catalog.documents.items()):
        by_collection.setdefault(doc.collection, []).append(doc_id)
    store = "no index yet: run procure-ai ingest FOLDER"
    if catalog.documents:
        try:  # the store the catalog describes, through the settings given (embedded, or --chroma-url)
            held = ChromaStore(catalog.collection, path=settings.data_dir / "chroma", url=settings.chroma_url)
            missing = len(catalog.chunk_ids() - held.ids())
            where = f"the Chroma collection {catalog.collection} at {settings.chroma_url or 'the data dir'}"
            built = (f"; it was built in {catalog.store}" if catalog.store not in ("", settings.chroma_url or EMBEDDED)
                     else "")
            store = (f"holds the index ({held.count():,} passages in {where})" if not missing else
                     f"does not hold this index ({missing:,} of its passages missing in {where}{built}): "
                     "run procure-ai ingest")
        except StoreError as exc:
            store = str(exc)
    info = {
        "data_dir": str(settings.data_dir),
        "documents": len(catalog.documents),
        "passages": len(catalog.chunk_ids()),
        "model": catalog.model,
        "generation": catalog.generation,
        "collections": sorted(c for c in by_collection if c),
        "store": store,
    }
    if args.json:
        print_json({**info, "document_ids": sorted(catalog.documents), "by_collection": by_collection})
        return 0
    for key, value in info.items():
        if key != "collections":
            print(f"{key}: {value}")
    for name, doc_ids in by_collection.items():
        print(f"\ncollection {name or '(none)'}: {len(doc_ids)} documents")
        for doc_id in doc_ids:
            doc = catalog.documents[doc_id]
            print(f"  {doc_id}  {doc.title}  ({len(doc.chunk_ids)} passages)")
    return 0


def corpus(args, settings: Settings) -> int:
    from corpus.manifest import MANIFEST_PATH
    from corpus.sync import sync

    report = sync(args.dest, manifest=args.manifest or MANIFEST_PATH, mirror=args.mirror)
    if args.json:
        print_json(report.to_dict())
    else:
        print(f"{len(report.fetched)} fetched, {len(report.unchanged)} already up to date, {len(report.failed)} failed → {args.dest}")
        for path, reason in report.failed.items():
            print(f"  failed {path}: {reason}")
    return 1 if report.failed else 0


def serve(args, settings: Settings) -> int:
    import uvicorn

    from assistant.deck import load_deck, prepare, report
    from assistant.factory import build_assistant
    from assistant.feedback import FeedbackStore
    from assistant.web.app import build_app

    questions = load_deck(args.deck) if args.deck else None  # fail on a bad deck before loading the model
    server = settings.server
    listener = _listen(server.host, server.port)  # a busy port fails now, before anything loads or prints a URL
    assistant = build_assistant(settings)
    catalog = assistant.catalog()
    if not catalog.documents:
        raise ValueError("the index is empty: run `procure-ai ingest FOLDER` first")
    assistant.ask("warm up: who should be involved when buying AI?")  # load the model and caches before the first user
    slides = prepare(assistant, questions) if questions else None
    if slides:
        print(report(slides), flush=True)
    from assistant.cli.reach import audited  # every question from here on is recorded, unless --no-audit-log

    assistant = audited(assistant, settings, "web")
    app = build_app(assistant, server, FeedbackStore(settings.data_dir), slides, Path(args.deck).name if args.deck else "")
    print(f"procure-ai chat on http://{server.host}:{server.port}/  (API: POST /api/ask, OpenAI-compatible: /v1; "
          f"presenter view: /present; Ctrl+C or `kill {os.getpid()}` stops it)", flush=True)
    uvicorn.Server(uvicorn.Config(app, log_level="warning")).run(sockets=[listener])
    return 0


def _listen(host: str, port: int):
    """A socket bound to host:port for the server, or a one-line error saying the port is busy."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does: a port in TIME_WAIT is free
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise OSError(f"port {port} on {host} is busy (another procure-ai serve, or another program): "
                          "pass --port N to use another") from None
        raise OSError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def feedback(args, settings: Settings) -> int:
    from assistant.feedback import FeedbackStore, as_eval_cases

    store = FeedbackStore(settings.data_dir)
    rows = store.rows("down" if args.down else None)
    if args.action == "list":
        for row in rows:
            print(f"{row['id']}\t{row['created']}\t{row['vote']}\t{row['question'][:80]}\t{row['comment'][:60]}")
        return 0
    lines = [json.dumps(case, ensure_ascii=False) for case in as_eval_cases(store.rows("down"))]
    if args.out:
        Path(args.out).write_text("\n".join(lines) + ("\n" if lines else ""), encoding="utf-8")
        print(f"{len(lines)} thumbs-down exported to {args.out} (add evidence and key points, then append to a gold set)")
    else:
        for line in lines:
            print(line)
    return 0
