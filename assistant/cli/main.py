"""The `procure-ai` command: parses flags, calls the library, prints the result. Nothing more."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from assistant.settings import Settings

EXIT_USAGE = 2


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-dir", type=Path, help="where the index lives (env PROCURE_AI_DATA_DIR)")
    p.add_argument("--chroma-url", help="use a Chroma server, e.g. http://127.0.0.1:8000 (env PROCURE_AI_CHROMA_URL)")
    p.add_argument("--model", dest="embed_model", help="sentence-transformers model folder (env PROCURE_AI_EMBED_MODEL)")


def _llm(p: argparse.ArgumentParser) -> None:
    p.add_argument("--llm-base-url", help="OpenAI-compatible endpoint, e.g. http://127.0.0.1:8080/v1 (env PROCURE_AI_LLM_BASE_URL)")
    p.add_argument("--llm-model", help="model name at that endpoint (env PROCURE_AI_LLM_MODEL)")
    p.add_argument("--llm-api-key", help="API key, if the endpoint needs one (env PROCURE_AI_LLM_API_KEY)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="procure-ai",
        description="Answers questions about buying AI from public guidance, citing the passages.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("ingest", help="index folders or files (Markdown, PDF, DOCX, HTML, TXT, CSV)")
    p.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    _common(p)
    p.add_argument("--chunk-tokens", type=int, help="largest passage in word pieces (default 200)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")

    p = sub.add_parser("ask", help="answer a question (or a JSONL file of them) with citations")
    p.add_argument("question", nargs="?", help="the question ('-' reads it from stdin)")
    p.add_argument("--questions", type=Path, help="JSONL file, one {\"question\": ...} per line; '-' for stdin")
    _common(p)
    p.add_argument("-k", "--top-k", type=int, help="passages to retrieve (default 5)")
    p.add_argument("--mode", dest="search_mode", choices=["hybrid", "dense", "keyword"], help="retrieval (default hybrid)")
    p.add_argument("--history", type=Path, help="JSON file: the conversation so far, [{\"question\", \"answer\"}, ...]")
    p.add_argument("--collection", action="append", default=[], help="only search this collection (repeatable)")
    p.add_argument("--doc", action="append", default=[], help="only search this document id (repeatable)")
    _llm(p)
    p.add_argument("--json", action="store_true", help="print one JSON object per question")

    p = sub.add_parser("eval", help="score the assistant on a gold set of expected answers")
    p.add_argument("--set", dest="gold_set", type=Path, help="JSONL gold set (default: evals/gold.jsonl)")
    _common(p)
    p.add_argument("--configs", default="hybrid",
                   help="comma-separated: hybrid, dense, keyword, textbook, chunks-N, llm (default hybrid)")
    p.add_argument("--corpus", type=Path, help="corpus folder, for the textbook and chunks-N configurations")
    p.add_argument("--report", type=Path, help="write report.md and chart.png into this folder")
    p.add_argument("--gate", nargs="?", const="default", help="exit 1 if the first configuration falls below the thresholds (default evals/thresholds.toml)")
    p.add_argument("--no-save", action="store_true", help="do not keep the run under DATA_DIR/evals")
    _llm(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")

    p = sub.add_parser("serve", help="start the chat (and POST /api/ask) on 127.0.0.1")
    _common(p)
    _llm(p)
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=7860)
    p.add_argument("--auth", help="USER:PASSWORD required to open the chat (env PROCURE_AI_AUTH)")
    p.add_argument("--concurrency", type=int, default=4, help="questions answered at once; others queue (default 4)")
    p.add_argument("--deck", type=Path, help="question deck for the presenter view at /present: one question per line, "
                   "or JSONL; every answer is prepared and checked at start-up")

    p = sub.add_parser("feedback", help="the chat's thumbs up/down: list them, or export the thumbs-down as eval cases")
    p.add_argument("action", choices=["list", "export"])
    p.add_argument("--down", action="store_true", help="list only thumbs-down")
    p.add_argument("--out", type=Path, help="export to this JSONL file (default: stdout)")
    _common(p)

    p = sub.add_parser("bench", help="measure ingest, retrieval and answer speed; --scale: 10k-1M passages; --load: many users")
    p.add_argument("corpus", type=Path, nargs="?", help="corpus folder to ingest into a fresh temporary index")
    _common(p)
    p.add_argument("--no-textbook", action="store_true", help="skip the LlamaIndex textbook comparison")
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
    p.add_argument("--concurrency", type=int, default=4, help="with --load: the started server's serve --concurrency")
    p.add_argument("--url", help="with --load: a running server instead, e.g. http://127.0.0.1:7860")
    p.add_argument("--json", action="store_true", help="print one JSON object")

    p = sub.add_parser("status", help="what the index holds")
    _common(p)
    p.add_argument("--json", action="store_true")

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
    from assistant import commands

    try:
        settings = Settings.load(**{k: getattr(args, k, None) for k in Settings.ENV.values()})
        return commands.run(args, settings)
    except KeyboardInterrupt:
        print("procure-ai: interrupted (the index is as it was before this run)", file=sys.stderr)
        return 130
    except commands.USER_ERRORS as exc:
        print(f"procure-ai: error: {exc}", file=sys.stderr)
        return EXIT_USAGE


def print_json(data) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(main())
