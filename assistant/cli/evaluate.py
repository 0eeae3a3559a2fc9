"""`procure-ai eval`, `bench` and `train`: builds the assistants to measure (or the judge to train)."""

from __future__ import annotations

import sys
import tempfile
from dataclasses import replace
from pathlib import Path

from assistant import factory
from assistant.cli.output import print_json
from corpus.settings import Settings
from ingest.discover import InputError

SEARCH_MODES = ("hybrid", "dense", "keyword")  # each with the trained judge; "nojudge": hybrid without it


def configurations(settings: Settings, names: list[str], corpus: Path | None = None):
    """Yield (name, Assistant) for each configuration name, over the same index and model.

    Names: hybrid, dense, keyword (retrieval modes over the index in
    settings.data_dir, reranked and judged by the trained judge); nojudge (hybrid without the judge: the
    answerer's own scores and a similarity floor decide); textbook (LlamaIndex's VectorStoreIndex, 1024-token
    chunks, dense only, built from `corpus`); chunks-N (hybrid over a fresh
    index of `corpus` with N-token passages); llm (hybrid with the configured
    OpenAI-compatible answerer); pdf-twin (hybrid over a fresh index of `corpus`
    with the Buying AI chapters read from their PDF print, found beside it in
    corpus-extra/ocp-buying-ai-pdf: evals/twin.py; compare with chunks-220).
    """
    index = factory.build_index(settings)
    offline = factory.offline(settings)  # every configuration but "llm" answers offline
    for name in names:
        if name in SEARCH_MODES:
            yield name, factory.build_assistant(offline.with_values(retrieval__mode=name), index=index)
        elif name == "nojudge":
            yield name, factory.build_assistant(offline, index=index, judge=None)
        elif name == "llm":
            if not settings.llm.base_url:
                raise ValueError("the llm configuration needs --llm-base-url (or PROCURE_AI_LLM_BASE_URL)")
            yield name, factory.build_assistant(settings, index=index)
        elif name == "textbook":
            from evals.baseline import TextbookRetriever

            if corpus is None:
                raise ValueError("the textbook configuration needs --corpus FOLDER to build its own index from")
            work = Path(tempfile.mkdtemp(prefix="procure-ai-textbook-"))
            searcher = TextbookRetriever(corpus, work, index.embedder, settings.retrieval.top_k)
            yield name, factory.build_assistant(offline, index=index, searcher=searcher)
        elif name.startswith("chunks-"):
            if corpus is None:
                raise ValueError(f"the {name} configuration needs --corpus FOLDER to re-index")
            sized = replace(offline.with_values(ingest__chunk_tokens=int(name.split("-", 1)[1])),
                            data_dir=Path(tempfile.mkdtemp(prefix=f"procure-ai-{name}-")))
            sized_index = factory.build_index(sized, embedder=index.embedder)
            factory.ingest(sized, [corpus], sized_index)
            yield name, factory.build_assistant(sized, index=sized_index)
        elif name == "pdf-twin":
            from evals import twin

            if corpus is None:
                raise ValueError("the pdf-twin configuration needs --corpus, the guidance mirror")
            work = Path(tempfile.mkdtemp(prefix="procure-ai-pdf-twin-"))
            folder = twin.build(Path(corpus), Path(corpus).resolve().parent / "corpus-extra" / twin.FOLDER, work / "corpus")
            twin_settings = replace(offline, data_dir=work / "data")
            twin_index = factory.build_index(twin_settings, embedder=index.embedder)
            factory.ingest(twin_settings, [folder], twin_index)
            yield name, factory.build_assistant(twin_settings, index=twin_index)
        else:
            raise ValueError(f"unknown configuration {name!r}: use hybrid, dense, keyword, nojudge, textbook, "
                             "chunks-N, llm or pdf-twin")


def evaluate(args, settings: Settings) -> int:
    from evals.cases import GOLD, load_cases
    from evals.report import THRESHOLDS, gate, groups_table, save_runs, table, write_report
    from evals.run import corpus_version, run

    cases = load_cases(args.gold_set or GOLD)
    if args.docs:
        listed = Path(args.docs).read_text(encoding="utf-8").splitlines() if Path(args.docs).is_file() \
            else args.docs.split(",")
        docs = {d.strip() for d in listed if d.strip() and not d.startswith("#")}
        cases = [c for c in cases if c.answerable and set(c.evidence_docs) <= docs]
        if not cases:
            raise ValueError(f"no answerable case of {args.gold_set or GOLD} has its evidence in {', '.join(sorted(docs))}")
    names = [n.strip() for n in args.configs.split(",") if n.strip()]
    runs, version = [], ""
    for name, assistant in configurations(settings, names, args.corpus):
        if not version:
            version = corpus_version(assistant.catalog())
        asked = cases
        if name == "pdf-twin":  # evidence in a Markdown chapter is looked for in its PDF
            from evals.twin import remap

            asked = remap(cases)
        runs.append(run(name, asked, assistant, assistant.support, version, settings.check.support_threshold))
        if not args.json:
            print(f"  {name}: done", file=sys.stderr)
    if not args.no_save:
        save_runs(runs, settings.data_dir / "evals")
    if args.report:
        write_report(runs, args.report)
    first = runs[0]
    failures = gate(first, THRESHOLDS if args.gate in (None, "default") else Path(args.gate)) if args.gate else []
    if args.json:
        print_json({**first.summary(), "configurations": {r.config: r.metrics for r in runs}, "gate_failures": failures})
    else:
        print(f"{first.cases} cases ({first.unanswerable} to refuse), corpus {first.corpus_version}\n")
        print(table(runs))
        if first.groups:
            print(f"\n{first.config}, by question and evidence language:\n\n{groups_table(first)}")
        for r in runs:
            if r.pages.get("checked"):
                print(f"{r.config}: {r.pages['hold_quote']} of {r.pages['checked']} cited PDF pages hold their quote")
        if args.report:
            print(f"\nreport: {args.report / 'report.md'}")
        for failure in failures:
            print(f"GATE FAILED: {failure}", file=sys.stderr)
    return 1 if failures else 0


def bench(args, settings: Settings) -> int:
    from evals.bench.speed import run_bench, save, table

    if args.scale:
        from evals.bench.scale import DEFAULT_CACHE, parse_sizes, run_scale, save as save_scale, table as scale_table

        sizes = parse_sizes(args.scale)  # a bad size fails before anything is built
        result = run_scale(sizes, args.scale_cache or DEFAULT_CACHE, server=args.scale_server,
                           log=lambda line: print(line, file=sys.stderr, flush=True))
        path, plot = save_scale(result, settings.data_dir / "bench")
        text = f"{scale_table(result)}\n\nsaved: {path}\nplot: {plot}"
    elif args.load:
        from evals.bench.load import run_bench_load, table as load_table
        from evals.bench.synthetic import questions

        result = run_bench_load(settings.data_dir, args.url, questions(), args.users, args.seconds, args.think,
                                args.load_concurrency, settings.chroma_url)
        path = save(result, settings.data_dir / "bench", "load")
        text = f"{load_table(result)}\n\nsaved: {path}"
    else:
        if args.corpus is None or not Path(args.corpus).exists():
            raise InputError(f"no such file or folder: {args.corpus}" if args.corpus else
                             "give a corpus folder to ingest, or --scale SIZES, or --load")
        textbook = None
        if not args.no_textbook:
            from evals.baseline import TextbookRetriever

            textbook = TextbookRetriever
        result = run_bench(settings, args.corpus, factory, textbook, args.limit)
        path = save(result, settings.data_dir / "bench")
        text = f"{table(result)}\n\nsaved: {path}"
    if args.json:
        print_json(result)
    else:
        print(text)
    return 1 if result.get("error_count") else 0


def train(args, settings: Settings) -> int:
    from assistant.judge.build import rebuild, rebuild_premise, refit, repick_premise
    from assistant.judge.model import MODEL_DIR
    from assistant.judge.retriever import MODEL_DIR as RETRIEVER_DIR, rebuild_retriever

    if not Path(args.corpus).exists():
        raise InputError(f"no such file or folder: {args.corpus}")
    data = args.data or Path(__file__).resolve().parents[2] / "evals" / "train"
    if not data.is_dir():
        raise InputError(f"no training data at {data}")
    log = (lambda line: None) if args.json else (lambda line: print(line, file=sys.stderr, flush=True))
    out = args.out or MODEL_DIR
    work_dir = args.work_dir or Path(tempfile.mkdtemp(prefix="procure-ai-train-"))  # one training index for both
    cards = {}
    if args.only in (None, "retriever"):
        cards["retriever"] = rebuild_retriever(settings, data, args.corpus, args.out or RETRIEVER_DIR, factory,
                                               work_dir=work_dir, log=log)
    if args.only in (None, "judge"):
        cards["judge"] = rebuild(settings, data, args.corpus, out, factory, work_dir=work_dir, log=log)
    if args.only in (None, "premise"):
        cards["premise"] = rebuild_premise(settings, data, args.corpus, out, factory, work_dir=work_dir, log=log)
    if args.only == "answerability":
        cards["answerability"] = refit(settings, data, args.corpus, out, factory, work_dir=work_dir, log=log)
    if args.only == "premise-cut":
        cards["premise"] = repick_premise(settings, data, args.corpus, out, factory, work_dir=work_dir, log=log)
    if args.json:
        print_json(cards)
    else:
        for name, card in cards.items():
            figures = {"judge": lambda: card["validation_int8"], "retriever": lambda: card["validation_dense"],
                       "answerability": lambda: card["validation"],
                       "premise": lambda: {k: card[k] for k in ("cut", "answerable_flagged", "false_flagged")}}[name]()
            where = args.out or (RETRIEVER_DIR if name == "retriever" else out)
            print(f"{name} written to {where} in {card.get('total_s', 0):.0f} s; validation: {figures}")
    return 0
