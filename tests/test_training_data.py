"""The judge's and the premise check's training data (evals/train/) as its datasheet promises: every evidence
span verbatim in its document, no line drawing on a held-out document, none a near-copy of an evaluation
question (a test set must stay apart from what the models learned from), and the premise pairs built over
one span each, one premise that holds and one twisted."""

from __future__ import annotations

import json
from collections import Counter

from conftest import MIRROR, ROOT

from evals.train.check import check_training, document_texts, training_files

TRAIN = ROOT / "evals" / "train"


def test_every_training_line_passes_the_checker():
    problems, counts = check_training(training_files(TRAIN), document_texts(MIRROR))
    assert problems == []
    assert counts["answerable:true_premise"] >= 400 and counts["unanswerable:false_premise"] >= 600


def test_each_premise_pair_shares_its_span_one_holding_one_twisted():
    pairs: dict[str, list[dict]] = {}
    for path in sorted([*(TRAIN / "premise").glob("*.jsonl"), *(TRAIN / "premise2").glob("*.jsonl")]):
        for line in path.read_text(encoding="utf-8").splitlines():
            item = json.loads(line)
            pairs.setdefault(item["pair"], []).append(item)
    kinds = Counter()
    for pair, items in pairs.items():
        assert len(items) == 2, pair
        holds = [i for i in items if i["answerable"]]
        twisted = [i for i in items if not i["answerable"]]
        assert len(holds) == 1 and len(twisted) == 1, pair
        assert holds[0]["evidence"] == twisted[0]["near_evidence"], pair
        assert holds[0]["doc"] == twisted[0]["near_doc"], pair
        kinds[twisted[0]["kind"]] += 1
    assert kinds["false_premise"] >= 300 and kinds["presupposition"] >= 30
