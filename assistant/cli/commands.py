"""What each `procure-ai` subcommand does: one library call and its rendering."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from assistant.cli import print_json
from assistant.service import Query, QuestionError, Turn
from assistant.settings import Settings
from corpus.manifest import ManifestError
from ingest.discover import InputError
from index.embedder import EmbedderError
from index.index import IndexBusy
from index.search import IndexNotReady, Scope
from index.store import StoreError
from assistant.llm import LLMError

USER_ERRORS = (
    ValueError,  # bad settings, QuestionError, InputError, ManifestError
    OSError,
    StoreError,
    IndexBusy,
    IndexNotReady,
    EmbedderError,
    QuestionError,
    InputError,
    ManifestError,
    LLMError,
)


def run(args, settings: Settings) -> int:
    handler = {"ingest": ingest, "ask": ask, "status": status, "corpus": corpus, "eval": evaluate, "serve": serve, "feedback": feedback, "bench": bench}[args.command]
    return handler(args, settings)


def ingest(args, settings: Settings) -> int:
    from tqdm import tqdm

    from assistant.factory import build_chunker, build_index
    from ingest.pipeline import ingest as run_ingest

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

    report = run_ingest(list(args.paths), index, build_chunker(settings, index), progress)
    for bar in bars.values():
        bar.close()
    if args.json:
        print_json(report.to_dict())
        return 0
    verb = "Indexed" if report.changed else "Index up to date:"
    print(
        f"{verb} {report.documents} documents, {report.chunks} passages "
        f"({len(report.added_documents)} added, {len(report.changed_documents)} changed, "
        f"{len(report.removed_documents)} removed; {report.embedded_chunks} passages embedded) in {report.seconds:.1f} s"
    )
    for path, reason in sorted(report.skipped.items()):
        print(f"  skipped {path}: {reason}")
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
        check_question(queries[0][0].question)  # fail fast, before loading the model
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


def render_text(answer) -> str:
    lines = [answer.answer, ""]
    if answer.citations:
        lines.append("Sources:")
        for c in answer.citations:
            where = c.section if c.section.startswith(c.title) else " > ".join(x for x in (c.title, c.section) if x)
            page = f", p. {c.page}" if c.page else ""
            lines.append(f"  [{c.n}] {where}{page} — {c.url}".rstrip(" —"))
    return "\n".join(lines).rstrip() + "\n"


def status(args, settings: Settings) -> int:
    from index.catalog import load_catalog

    catalog = load_catalog(settings.data_dir)
    info = {
        "data_dir": str(settings.data_dir),
        "documents": len(catalog.documents),
        "passages": len(catalog.chunk_ids()),
        "model": catalog.model,
        "generation": catalog.generation,
        "collections": sorted({d.collection for d in catalog.documents.values() if d.collection}),
    }
    if args.json:
        print_json({**info, "document_ids": sorted(catalog.documents)})
    else:
        for key, value in info.items():
            print(f"{key}: {value}")
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


def evaluate(args, settings: Settings) -> int:
    from evals.cases import GOLD, load_cases
    from evals.configs import assistants
    from evals.report import THRESHOLDS, gate, save_runs, table, write_report
    from evals.run import corpus_version, run

    cases = load_cases(args.gold_set or GOLD)
    names = [n.strip() for n in args.configs.split(",") if n.strip()]
    runs, version = [], ""
    for name, assistant in assistants(settings, names, args.corpus):
        if not version:
            version = corpus_version(assistant)
        runs.append(run(name, cases, assistant, assistant.judge, version))
        if not args.json:
            print(f"  {name}: done", file=sys.stderr)
    if not args.no_save:
        save_runs(runs, settings.data_dir / "evals")
    if args.report:
        write_report(runs, args.report)
    first = runs[0]
    failures = gate(first, THRESHOLDS if args.gate in (None, "default") else Path(args.gate)) if args.gate else []
    if args.json:
        print_json({
            "cases": first.cases, "unanswerable": first.unanswerable, "metrics": first.metrics,
            "config": first.config, "date": first.date, "corpus_version": first.corpus_version,
            "configurations": {r.config: r.metrics for r in runs}, "gate_failures": failures,
        })
    else:
        print(f"{first.cases} cases ({first.unanswerable} to refuse), corpus {first.corpus_version}\n")
        print(table(runs))
        if args.report:
            print(f"\nreport: {args.report / 'report.md'}")
        for failure in failures:
            print(f"GATE FAILED: {failure}", file=sys.stderr)
    return 1 if failures else 0


def serve(args, settings: Settings) -> int:
    import os

    import uvicorn

    from assistant.chat import build_app
    from assistant.deck import load_deck, prepare, report
    from assistant.factory import build_assistant

    auth = args.auth or os.environ.get("PROCURE_AI_AUTH")
    if auth and ":" not in auth:
        raise ValueError("--auth takes USER:PASSWORD")
    questions = load_deck(args.deck) if args.deck else None  # fail on a bad deck before loading the model
    assistant = build_assistant(settings)
    catalog = assistant.searcher.index.catalog()
    if not catalog.documents:
        raise ValueError("the index is empty: run `procure-ai ingest FOLDER` first")
    assistant.ask("warm up: who should be involved when buying AI?")  # load the model and caches before the first user
    collections = sorted({d.collection for d in catalog.documents.values() if d.collection})
    from assistant.feedback import FeedbackStore

    slides = prepare(assistant, questions) if questions else None
    if slides:
        print(report(slides), flush=True)
    app = build_app(assistant, collections, tuple(auth.split(":", 1)) if auth else None, args.concurrency,
                    FeedbackStore(settings.data_dir), slides, Path(args.deck).name if args.deck else "")
    print(f"procure-ai chat on http://{args.host}:{args.port}/  (API: POST /api/ask; presenter view: /present)", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


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


def bench(args, settings: Settings) -> int:
    from evals.bench import run_bench, save, table

    if args.scale:
        from evals.scale import DEFAULT_CACHE, parse_sizes, run_scale, save as save_scale, table as scale_table

        sizes = parse_sizes(args.scale)  # a bad size fails before anything is built
        result = run_scale(sizes, args.scale_cache or DEFAULT_CACHE, server=args.scale_server,
                           log=lambda line: print(line, file=sys.stderr, flush=True))
        path, plot = save_scale(result, settings.data_dir / "bench")
        text = f"{scale_table(result)}\n\nsaved: {path}\nplot: {plot}"
    elif args.load:
        from evals.load import run_bench_load, table as load_table
        from evals.synthetic import questions

        result = run_bench_load(settings.data_dir, args.url, questions(), args.users, args.seconds, args.think,
                                args.concurrency, settings.chroma_url)
        path = save(result, settings.data_dir / "bench", "load")
        text = f"{load_table(result)}\n\nsaved: {path}"
    else:
        if args.corpus is None or not Path(args.corpus).exists():
            raise InputError(f"no such file or folder: {args.corpus}" if args.corpus else
                             "give a corpus folder to ingest, or --scale SIZES, or --load")
        result = run_bench(settings, args.corpus, textbook=not args.no_textbook)
        path = save(result, settings.data_dir / "bench")
        text = f"{table(result)}\n\nsaved: {path}"
    if args.json:
        print_json(result)
    else:
        print(text)
    return 1 if result.get("error_count") else 0
