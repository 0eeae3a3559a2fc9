"""The training data's validation split as an evaluation set: what a maintainer asks of a new judge, beside gold
and dev, before the held-out sets are run (assistant/judge/valset.py)."""

from __future__ import annotations

import json

from conftest import ROOT

from assistant.judge.pairs import is_validation
from corpus.settings import TrainingSettings
from evals.cases import load_cases
from assistant.judge import valset

TRAIN = ROOT / "evals" / "train"


def test_the_vendor_folders_validation_questions_become_an_eval_set_and_nothing_the_judge_trains_on(tmp_path, capsys):
    out = tmp_path / "vendor-val.jsonl"
    assert valset.main([str(out), "--folders", "vendor"]) == 0
    cases = load_cases(out)  # the gold format, or CaseError
    lines = [json.loads(t) for p in sorted((TRAIN / "vendor").glob("*.jsonl")) for t in p.read_text().splitlines() if t]
    kept = {l["id"] for l in lines if is_validation(l["id"], TrainingSettings.validation)}
    assert {c.id for c in cases} == kept and 0 < len(kept) < len(lines) / 5
    picks = [c for c in cases if c.id.startswith("v1-") and not c.answerable]
    assert picks and all(c.why.split(":")[0] in ("vendor_specific", "absent_fact") for c in picks)
    assert any(c.answerable and c.evidence and c.evidence_docs[0].endswith(".md") for c in cases)
    assert f"{len(cases)} validation questions" in capsys.readouterr().out


def test_follow_ups_are_left_to_their_conversations_and_an_unknown_folder_is_one_line(tmp_path, capsys):
    data = tmp_path / "train"
    (data / "chat").mkdir(parents=True)
    rows = [{"id": f"t-{i:03d}", "question": f"Question {i}?", "answerable": True, "doc": "d.md", "evidence": ["x"],
             **({"type": "followup", "history": [{"question": "Before?"}]} if i % 2 else {})} for i in range(200)]
    (data / "chat" / "a.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    cases = valset.validation_cases(data, ["chat"])
    assert cases and all(int(c.id[2:]) % 2 == 0 for c in cases)
    assert valset.main([str(tmp_path / "x.jsonl"), "--folders", "nope", "--data", str(data)]) == 2
    assert capsys.readouterr().err.strip() == f"error: no such training folder: {data / 'nope'}"
