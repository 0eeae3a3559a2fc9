"""`procure-ai mcp` and `procure-ai audit`: the MCP face on stdio, and the audit log's export."""

from __future__ import annotations

import sys
from pathlib import Path

from corpus.settings import Settings


def audited(assistant, settings: Settings, channel: str):
    """The assistant a face is given: recorded in DATA_DIR/audit.sqlite3 unless --no-audit-log."""
    if not settings.server.audit_log:
        return assistant
    from assistant.audit import Audited, AuditLog

    return Audited(assistant, AuditLog(settings.data_dir), channel)


def mcp(args, settings: Settings) -> int:
    from assistant.mcp.server import build_server, serve_stdio, stdout_to_stderr

    with stdout_to_stderr():  # stdout carries the protocol: nothing else may reach it
        from assistant.factory import build_assistant, build_index

        index = build_index(settings)
        assistant = build_assistant(settings, index)
        if not assistant.catalog().documents:
            raise ValueError("the index is empty: run `procure-ai ingest FOLDER` first")
        assistant.ask("warm up: who should be involved when buying AI?")  # load the model before the first call
        app = build_server(audited(assistant, settings, "mcp"), index, settings.server)
    print(f"procure-ai MCP server on stdio over {settings.data_dir}", file=sys.stderr, flush=True)
    serve_stdio(app)
    return 0


def audit(args, settings: Settings) -> int:
    from assistant.audit import FILE, AuditLog, export, parse_date

    since = parse_date(args.since) if args.since else None
    until = parse_date(args.until) if args.until else None
    if not (Path(settings.data_dir) / FILE).exists():
        raise ValueError(f"no audit log in {settings.data_dir}: nothing has been asked through serve or mcp there")
    rows = AuditLog(settings.data_dir).rows(since, until)
    lines = export(rows, args.audit_format)
    if args.out:
        with open(args.out, "w", encoding="utf-8", newline="") as out:
            out.writelines(lines)
        print(f"{len(rows)} questions exported to {args.out}", file=sys.stderr)
    else:
        sys.stdout.writelines(lines)
    return 0
