"""Stores thumbs up/down on answers in SQLite, and exports the thumbs-down as draft eval cases."""

from __future__ import annotations

import json
import re
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created TEXT NOT NULL,
    vote TEXT NOT NULL CHECK (vote IN ('up', 'down')),
    question TEXT NOT NULL,
    answer_json TEXT NOT NULL,
    history_json TEXT NOT NULL DEFAULT '[]',
    comment TEXT NOT NULL DEFAULT ''
)
"""


class FeedbackStore:
    """`DATA_DIR/feedback.sqlite3`: one row per vote."""

    def __init__(self, data_dir: Path):
        self.path = Path(data_dir) / "feedback.sqlite3"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute(SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=10)

    def add(self, vote: str, question: str, answer: dict, history: list[dict] | None = None, comment: str = "") -> int:
        if vote not in ("up", "down"):
            raise ValueError("vote must be 'up' or 'down'")
        with self._connect() as db:
            cur = db.execute(
                "INSERT INTO feedback (created, vote, question, answer_json, history_json, comment) VALUES (?, ?, ?, ?, ?, ?)",
                (datetime.now(timezone.utc).isoformat(timespec="seconds"), vote, question,
                 json.dumps(answer, ensure_ascii=False), json.dumps(history or [], ensure_ascii=False), comment[:2000]),
            )
            return int(cur.lastrowid)

    def rows(self, vote: str | None = None) -> list[dict]:
        query = "SELECT id, created, vote, question, answer_json, history_json, comment FROM feedback"
        params: tuple = ()
        if vote:
            query += " WHERE vote = ?"
            params = (vote,)
        with self._connect() as db:
            return [
                {"id": r[0], "created": r[1], "vote": r[2], "question": r[3], "answer": json.loads(r[4]),
                 "history": json.loads(r[5]), "comment": r[6]}
                for r in db.execute(query + " ORDER BY id", params)
            ]


def as_eval_cases(rows: list[dict]) -> list[dict]:
    """Thumbs-down rows in the gold-set format, as drafts: a maintainer adds the evidence and key points.

    `answerable` starts true unless the assistant answered and the user said it
    should not have; the assistant's answer and the comment ride along under
    `feedback` so the reviewer sees what went wrong.
    """
    cases = []
    for row in rows:
        slug = re.sub(r"[^a-z0-9]+", "-", row["question"].lower()).strip("-")[:40] or "question"
        answer = row["answer"]
        cases.append({
            "id": f"feedback-{row['id']}-{slug}",
            "question": row["question"],
            "answerable": True,
            "evidence": [],
            "evidence_docs": [],
            "key_points": [],
            "reference_answer": "",
            "history": row["history"],
            "feedback": {
                "created": row["created"], "comment": row["comment"], "refused": answer.get("refused"),
                "answer": answer.get("answer", ""),
                "citations": [f"{c.get('doc_id')} › {c.get('section')}" for c in answer.get("citations", [])],
            },
        })
    return cases
