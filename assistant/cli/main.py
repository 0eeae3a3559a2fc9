"""The `procure-ai` command: its flags, and the dispatch to what each subcommand does."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from corpus.settings import IngestSettings, RetrievalSettings, ServerSettings, Settings

EXIT_USAGE = 2
EXIT_PIPE = 141  # what a shell reports for a command whose reader closed the pipe (128 + SIGPIPE)
# flags that set a setting, by their dest: a dotted path of the settings tree with "__" for "."
SETTING_FLAGS = ("data_dir", "chroma_url", "embed_model", "ingest__chunk_tokens", "retrieval__top_k", "retrieval__mode",
                 "llm__base_url", "llm__model", "llm__api_key", "server__host", "server__port", "server__auth",
                 "server__concurrency", "server__api_key", "server__audit_log")


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-dir", type=Path, help="where the index lives (env PROCURE_AI_DATA_DIR)")
    p.add_argument("--chroma-url", help="use a Chroma server, e.g. http://127.0.0.1:8000 (env PROCURE_AI_CHROMA_URL)")
    p.add_argument("--model", dest="embed_model", help="sentence-transformers model folder (env PROCURE_AI_EMBED_MODEL)")


def _llm(p: argparse.ArgumentParser) -> None:
    p.add_argument("--llm-base-url", dest="llm__base_url",
                   help="OpenAI-compatible endpoint, e.g. http://127.0.0.1:8080/v1 (env PROCURE_AI_LLM_BASE_URL)")
    p.add_argument("--llm-model", dest="llm__model", help="model name at that endpoint (env PROCURE_AI_LLM_MODEL)")
    p.add_argument("--llm-api-key", dest="llm__api_key", help="API key, if the endpoint needs one (env PROCURE_AI_LLM_API_KEY)")


def _no_audit(p: argparse.ArgumentParser) -> None:
    p.add_argument("--no-audit-log", dest="server__audit_log", action="store_const", const=False,
                   help="do not record questions in DATA_DIR/audit.sqlite3 (recorded by default)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="procure-ai",
        description="Answers questions about buying AI from public guidance, citing the passages.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("ingest", help="index folders or files (Markdown, PDF, DOCX, HTML, TXT, CSV)")
    p.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    _common(p)
    p.add_argument("--chunk-tokens", dest="ingest__chunk_tokens", type=int,
                   help=f"largest passage in word pieces (default {IngestSettings.chunk_tokens}; env PROCURE_AI_CHUNK_TOKENS)")
    p.add_argument("--collection", help="the collection the documents join, for \"Search in\" (default: the manifest's, "
                   "else the one the folder had, else the folder's name)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")

    p = sub.add_parser("remove", help="take documents out of the index: by id, by path (a file, or a folder's "
                       "documents), or a whole --collection")
    p.add_argument("targets", nargs="*", metavar="ID|PATH", help="document ids (`procure-ai status` lists them) or paths")
    p.add_argument("--collection", action="append", default=[],
                   help="remove this collection (repeatable); with ids or paths, only those within it")
    _common(p)
    p.add_argument("--json", action="store_true", help="print the report as JSON")

    p = sub.add_parser("ask", help="answer a question (or a JSONL file of them) with citations")
    p.add_argument("question", nargs="?", help="the question ('-' reads it from stdin)")
    p.add_argument("--questions", type=Path, help="JSONL file, one {\"question\": ...} per line; '-' for stdin")
    _common(p)
    p.add_argument("-k", "--top-k", dest="retrieval__top_k", type=int,
                   help=f"passages to retrieve (default {RetrievalSettings.top_k}; env PROCURE_AI_TOP_K)")
    p.add_argument("--mode", dest="retrieval__mode", choices=["hybrid", "dense", "keyword"],
                   help=f"retrieval (default {RetrievalSettings.mode}; env PROCURE_AI_SEARCH_MODE)")
    p.add_argument("--history", type=Path, help="JSON file: the conversation so far, [{\"question\", \"answer\"}, ...]")
    p.add_argument("--collection", action="append", default=[], help="only search this collection (repeatable)")
    p.add_argument("--doc", action="append", default=[], help="only search this document id (repeatable)")
    _llm(p)
    p.add_argument("--json", action="store_true", help="print one JSON object per question")

    p = sub.add_parser("eval", help="score the assistant on a gold set of expected answers")
    p.add_argument("--set", dest="gold_set", type=Path, help="JSONL gold set (default: evals/gold.jsonl)")
    _common(p)
    p.add_argument("--configs", default="hybrid",
                   help="comma-separated: hybrid, dense, keyword, nojudge, textbook, chunks-N, llm, pdf-twin (default hybrid)")
    p.add_argument("--corpus", type=Path, help="corpus folder, for the textbook, chunks-N and pdf-twin configurations")
    p.add_argument("--report", type=Path, help="write report.md and chart.png into this folder")
    p.add_argument("--gate", nargs="?", const="default",
                   help="exit 1 if the first configuration falls below the thresholds (default evals/thresholds.toml)")
    p.add_argument("--docs", help="only the answerable cases whose evidence is in these documents: comma-separated "
                   "ids, or a file of one id a line (e.g. evals/train/held-out.txt)")
    p.add_argument("--no-save", action="store_true", help="do not keep the run under DATA_DIR/evals")
    _llm(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")

    p = sub.add_parser("serve", help="start the chat (and POST /api/ask) on 127.0.0.1")
    _common(p)
    _llm(p)
    p.add_argument("--host", dest="server__host",
                   help=f"address to bind (default {ServerSettings.host}: this machine only)")
    p.add_argument("--port", dest="server__port", type=int, help=f"port (default {ServerSettings.port})")
    p.add_argument("--auth", dest="server__auth", help="USER:PASSWORD required to open the chat (env PROCURE_AI_AUTH)")
    p.add_argument("--concurrency", dest="server__concurrency", type=int,
                   help=f"questions answered at once; others queue (default {ServerSettings.concurrency})")
    p.add_argument("--api-key", dest="server__api_key",
                   help="key OpenAI-compatible clients send as 'Authorization: Bearer KEY' on /v1 (env PROCURE_AI_API_KEY)")
    _no_audit(p)
    p.add_argument("--deck", type=Path, help="question deck for the presenter view at /present: one question per line, "
                   "or JSONL; every answer is prepared and checked at start-up")

    p = sub.add_parser("mcp", help="serve the guidance to MCP clients over stdio: tools search_guidance and ask, "
                       "documents as resources")
    _common(p)
    _llm(p)
    _no_audit(p)

    p = sub.add_parser("audit", help="the audit log of questions asked through serve and mcp: export it")
    p.add_argument("action", choices=["export"])
    p.add_argument("--since", help="from this date (YYYY-MM-DD, or YYYY-MM-DDTHH:MM; UTC unless it says otherwise)")
    p.add_argument("--until", help="up to (not including) this date")
    p.add_argument("--format", dest="audit_format", choices=["csv", "jsonl"], default="jsonl",
                   help="csv (one line per question) or jsonl (every field; default)")
    p.add_argument("--out", type=Path, help="write to this file (default: stdout)")
    _common(p)

    p = sub.add_parser("feedback", help="the chat's thumbs up/down: list them, or export the thumbs-down as eval cases")
    p.add_argument("action", choices=["list", "export"])
    p.add_argument("--down", action="store_true", help="list only thumbs-down")
    p.add_argument("--out", type=Path, help="export to this JSONL file (default: stdout)")
    _common(p)

    p = sub.add_parser("bench", help="measure ingest, retrieval and answer speed; --scale: 10k-1M passages; --load: many users")
    p.add_argument("corpus", type=Path, nargs="?", help="corpus folder to ingest into a fresh temporary index")
    _common(p)
    p.add_argument("--no-textbook", action="store_true", help="skip the LlamaIndex textbook comparison")
    p.add_argument("--limit", type=int, help="time only the first N of the gold and dev questions (default: all)")
    p.add_argument("--scale", metavar="SIZES", help="retrieval latency and memory over synthetic corpora of these "
                   "sizes, e.g. 10k,100k,1M (built once into --scale-cache, then only measured)")
    p.add_argument("--scale-server", action="store_true", help="with --scale: also through a `chroma run` server on loopback")
    p.add_argument("--scale-cache", type=Path, help="where --scale keeps its corpora (default ~/.cache/procure-ai/scale)")
    p.add_argument("--load", action="store_true", help="users asking POST /api/ask at once, on a server started "
                   "over --data-dir (or at --url)")
    p.add_argument("--users", type=int, default=50, help="with --load: simulated users (default 50)")
    p.add_argument("--seconds", type=float, default=30, help="with --load: how long they ask (default 30)")
    p.add_argument("--think", type=float, default=0.0, help="with --load: seconds a user pauses between an answer "
                   "and the next question (default 0: back to back)")
    p.add_argument("--concurrency", dest="load_concurrency", type=int, default=ServerSettings.concurrency,
                   help=f"with --load: the started server's serve --concurrency (default {ServerSettings.concurrency})")
    p.add_argument("--url", help="with --load: a running server instead, e.g. http://127.0.0.1:7860")
    p.add_argument("--json", action="store_true", help="print one JSON object")

    p = sub.add_parser("train", help="rebuild the tuned embedder, the trained judge and the premise check from the "
                       "written questions in evals/train/ (about 2 hours on 2 cores); writes the models and their cards")
    p.add_argument("corpus", type=Path, help="the guidance the questions were written from, e.g. ../shared/corpus")
    p.add_argument("--data", type=Path, help="folder of training files (default: evals/train/ of this repository)")
    p.add_argument("--out", type=Path, help="where to write the models (default: the shipped ones, index/model/ for the "
                   "embedder, assistant/judge/model/ for the rest)")
    p.add_argument("--work-dir", type=Path, help="keep the training index and pairs here between runs")
    p.add_argument("--only", choices=("retriever", "judge", "premise", "answerability", "premise-cut"),
                   help="rebuild one model (default: the embedder, the judge, then the premise check, which reads with "
                   "the judge to pick its cut-off); answerability refits only the judge's answerability model, as after "
                   "a new embedder; premise-cut picks only the premise check's cut-off again, as after a new judge")
    p.add_argument("--json", action="store_true", help="print the model card as JSON")

    p = sub.add_parser("status", help="what the index holds, document by document in each collection, and whether "
                       "its Chroma store holds it")
    _common(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")

    p = sub.add_parser("corpus", help="the guidance corpus")
    corpus_sub = p.add_subparsers(dest="corpus_command", required=True, metavar="ACTION")
    s = corpus_sub.add_parser("sync", help="download the manifest's documents into a folder")
    s.add_argument("dest", type=Path, help="folder to download into")
    s.add_argument("--manifest", type=Path, help="sources.toml to read (default: the project's corpus/sources.toml)")
    s.add_argument("--mirror", type=Path, help="copy from a local mirror folder instead of downloading")
    s.add_argument("--json", action="store_true")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from assistant.cli import commands, evaluate, reach

    handlers = {"ingest": commands.ingest, "ask": commands.ask, "status": commands.status, "corpus": commands.corpus,
                "serve": commands.serve, "feedback": commands.feedback, "eval": evaluate.evaluate, "bench": evaluate.bench,
                "mcp": reach.mcp, "audit": reach.audit, "remove": commands.remove, "train": evaluate.train}
    try:
        settings = Settings.load(**{k: getattr(args, k, None) for k in SETTING_FLAGS})
        return handlers[args.command](args, settings)
    except KeyboardInterrupt:
        print("procure-ai: interrupted (the index is as it was before this run)", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `procure-ai ask ... | head`: the reader has all it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so the exit's flush cannot fail again
        return EXIT_PIPE
    except commands.USER_ERRORS as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if getattr(args, "json", False):  # --json: the error is JSON too, on stdout where the answers go
            sys.stdout.write(json.dumps({"error": message}, ensure_ascii=False) + "\n")
        else:
            print(f"procure-ai: error: {message}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
