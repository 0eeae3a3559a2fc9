"""The audit log: every question a shared face answers, with its answer, citations, refusal and timings, in SQLite.

An organisation that offers the assistant to its officers may have to show what
it told whom and from which sources (a freedom-of-information request, an
internal review). `Audited` wraps the `Assistant` the faces are given, so the
chat, POST /api/ask, the OpenAI-compatible API and the MCP server each record a
question once, from the one call they all make (`ask`), whether it is answered,
refused or fails. The log stays in the data dir: nothing is sent anywhere.
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

from corpus.records import Answer, Query, Scope, Turn

FILE = "audit.sqlite3"
SCHEMA = """
CREATE TABLE IF NOT EXISTS questions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created TEXT NOT NULL,             -- UTC, ISO 8601 with milliseconds: sorts as text
    channel TEXT NOT NULL,             -- chat, openai, mcp: the face that was asked
    question TEXT NOT NULL,
    history_json TEXT NOT NULL DEFAULT '[]',
    scope_json TEXT NOT NULL DEFAULT '{}',
    outcome TEXT NOT NULL CHECK (outcome IN ('answered', 'refused', 'error')),
    answer_json TEXT NOT NULL DEFAULT '{}', -- Answer.to_dict(), retrieved passages without their text
    error TEXT NOT NULL DEFAULT '',
    elapsed_ms REAL NOT NULL
)
"""
CSV_COLUMNS = ("id", "created", "channel", "question", "outcome", "answer", "citations", "error",
               "retrieve_ms", "compose_ms", "elapsed_ms", "history", "scope")


class AuditLog:
    """`DATA_DIR/audit.sqlite3`, one row per question; opening it creates it (or fails in one line)."""

    def __init__(self, data_dir: Path):
        self.path = Path(data_dir) / FILE
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._connect() as db:
                db.execute("PRAGMA journal_mode=WAL")  # readers (an export) never wait for the server's writes
                db.execute(SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise OSError(f"cannot write the audit log {self.path}: {exc} (or pass --no-audit-log)") from None

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=10)
        db.execute("PRAGMA synchronous=NORMAL")
        return db

    def record(self, channel: str, query: Query, answer: Answer | None, elapsed_ms: float, error: str = "") -> int:
        """Append one question; `answer` is None when it failed with `error`. Returns the row id."""
        if answer is None:
            outcome, data = "error", {}
        else:
            outcome = "refused" if answer.refused else "answered"
            data = answer.to_dict()
            data["retrieved"] = [{k: v for k, v in p.items() if k != "text"} for p in data.get("retrieved", [])]
        row = (_now(), channel, query.question, json.dumps([t.to_dict() for t in query.history], ensure_ascii=False),
               json.dumps(query.scope.to_dict(), ensure_ascii=False), outcome, json.dumps(data, ensure_ascii=False),
               error, round(elapsed_ms, 2))
        with self._connect() as db:
            cur = db.execute("INSERT INTO questions (created, channel, question, history_json, scope_json, outcome, "
                             "answer_json, error, elapsed_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", row)
            return int(cur.lastrowid)

    def rows(self, since: datetime | None = None, until: datetime | None = None) -> list[dict]:
        """The questions asked from `since` (inclusive) to `until` (exclusive), oldest first."""
        where, params = [], []
        if since is not None:
            where.append("created >= ?")
            params.append(_stamp(since))
        if until is not None:
            where.append("created < ?")
            params.append(_stamp(until))
        query = ("SELECT id, created, channel, question, history_json, scope_json, outcome, answer_json, error, "
                 "elapsed_ms FROM questions" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY id")
        with self._connect() as db:
            return [{"id": r[0], "created": r[1], "channel": r[2], "question": r[3], "history": json.loads(r[4]),
                     "scope": json.loads(r[5]), "outcome": r[6], "answer": json.loads(r[7]), "error": r[8],
                     "elapsed_ms": r[9]} for r in db.execute(query, params)]


def export(rows: list[dict], fmt: str) -> Iterator[str]:
    """The rows as JSON lines (every field) or CSV (one line per question, citations in one cell), line by line."""
    if fmt == "jsonl":
        for row in rows:
            yield json.dumps(row, ensure_ascii=False) + "\n"
        return
    if fmt != "csv":
        raise ValueError(f"format must be csv or jsonl, not {fmt!r}")
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        answer, timings = row["answer"], row["answer"].get("timings_ms", {})
        citations = "; ".join(_cited(c) for c in answer.get("citations", []))
        writer.writerow([row["id"], row["created"], row["channel"], row["question"], row["outcome"],
                         answer.get("answer", ""), citations, row["error"], timings.get("retrieve", ""),
                         timings.get("compose", ""), row["elapsed_ms"], json.dumps(row["history"], ensure_ascii=False),
                         json.dumps(row["scope"], ensure_ascii=False)])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    if not rows:
        yield buffer.getvalue()


def _cited(citation: dict) -> str:
    page = f", p. {citation['page']}" if citation.get("page") else ""
    return f"[{citation.get('n')}] {citation.get('doc_id')} › {citation.get('section')}{page} {citation.get('url', '')}".rstrip()


def parse_date(text: str) -> datetime:
    """A date (2026-12-01, midnight UTC) or a date and time (2026-12-01T09:30, UTC unless it says otherwise)."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"not a date: {text!r} (use YYYY-MM-DD or YYYY-MM-DDTHH:MM)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


class Audited:
    """An `Assistant` whose every `ask` is recorded in `log` under `channel`; anything else is the assistant's own.

    A failure to write the log is reported on stderr and does not cost the user the answer.
    """

    def __init__(self, assistant, log: AuditLog, channel: str):
        self.assistant, self.log, self.channel = assistant, log, channel

    def __getattr__(self, name):
        return getattr(self.assistant, name)

    def via(self, channel: str) -> "Audited":
        """The same assistant and log, recorded under another channel."""
        return Audited(self.assistant, self.log, channel)

    def ask(self, question: str, history: tuple[Turn, ...] = (), scope: Scope = Scope(), on_token=None) -> Answer:
        return self.ask_many([Query(question, tuple(history), scope)], on_token)[0]

    def ask_many(self, queries: list[Query], on_token=None) -> list[Answer]:
        answers = []
        for query in queries:
            t0 = time.perf_counter()
            try:
                answer = self.assistant.ask_many([query], on_token)[0]
            except Exception as exc:
                self._record(query, None, t0, str(exc).splitlines()[0][:500] if str(exc) else type(exc).__name__)
                raise
            self._record(query, answer, t0)
            answers.append(answer)
        return answers

    def _record(self, query: Query, answer: Answer | None, t0: float, error: str = "") -> None:
        try:
            self.log.record(self.channel, query, answer, (time.perf_counter() - t0) * 1000, error)
        except (OSError, sqlite3.Error) as exc:
            print(f"procure-ai: warning: the audit log {self.log.path} could not be written: {exc}", file=sys.stderr)


def _now() -> str:
    return _stamp(datetime.now(timezone.utc))


def _stamp(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds")
