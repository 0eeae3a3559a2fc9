"""The trained judge: the shipped model is the one its data builds, it reads question and text together,
its verdicts decide refusals, and `procure-ai train` rebuilds it end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import ROOT, write_corpus

from assistant.judge.answerable import FEATURES, Answerability
from assistant.judge.model import MODEL_DIR, Judge
from assistant.judge.pairs import data_hash
from assistant.judge.premise import Premise, data_hash as premise_hash
from assistant.refusal import NOT_COVERED, NOT_DIRECTLY, RefusalPolicy
from corpus.records import Passage, Provenance, Turn
from corpus.settings import JudgeSettings

TRAIN = ROOT / "evals" / "train"
REFUSED_AT_LEAST = 0.25  # of the validation questions the guidance does not answer, refused outright


@pytest.fixture(scope="module")
def judge():
    return Judge()


def test_the_shipped_judge_was_trained_on_the_data_in_the_repository():
    """Change the training data and this fails until `procure-ai train` rebuilds the model."""
    card = json.loads((MODEL_DIR / "card.json").read_text(encoding="utf-8"))
    assert card["data_sha256"] == data_hash(TRAIN)
    assert card["validation_int8"]["answers_pair_auc"] > 0.75  # the exported int8 model, on held-apart questions
    assert card["answerability"] == {k: v for k, v in Judge().answerability.card.items()}


@pytest.mark.parametrize("question, answering, not_answering", [
    ("What should the contract say about who owns our data?",
     "Contract clauses › Data: The contract should state that the public body owns its data and any outputs.",
     "Contract clauses › Data: Contract clauses are an important part of any procurement."),
])
def test_the_judge_prefers_the_unit_that_answers(judge, question, answering, not_answering):
    yes, no = judge.answers(question, [answering, not_answering])
    assert yes > no


def test_a_units_score_does_not_depend_on_what_is_read_with_it():
    """Reranking, refusing and quoting read the same unit in different company; its score must be the same each
    time (the int8 model's activation scales once took in a batch's padding and neighbours)."""
    question = "What should the contract say about who owns our data?"
    unit = "Contract clauses › Data: The contract should state that the public body owns its data and any outputs."
    longer = "Evaluation › Scoring: " + " ".join(["Bidders describe how they monitor model drift after go-live."] * 6)
    alone = Judge().answers(question, [unit])[0]
    together = Judge().answers(question, [longer, unit, "Glossary › AI: artificial intelligence."])[1]
    assert alone == pytest.approx(together, abs=1e-6)


def test_pairs_read_side_by_side_score_as_read_one_at_a_time():
    """The judge reads a question's units on several cores at once (`judge.workers`): each unit keeps its own
    score, in its own place."""
    question = "Who should we involve when buying an off-the-shelf chatbot?"
    units = ["Who to involve › Key roles include: procurement officer, project team leader, IT expert, legal officer.",
             "Glossary › Hallucination: a confident answer that is not true.",
             "Contract clauses › Data: The contract should state that the public body owns its data and any outputs.",
             "Who to involve › Off-the-shelf technology can require less engagement, depending upon the use case.",
             "Evaluation › Scoring: Bidders describe how they monitor model drift after go-live."]
    side_by_side = Judge(settings=JudgeSettings(workers=3)).answers(question, units)
    one_by_one = Judge(settings=JudgeSettings(workers=1)).answers(question, units)
    assert side_by_side.tolist() == one_by_one.tolist()
    assert len(set(one_by_one.tolist())) == len(units)  # distinct scores: a shuffled order could not pass


@pytest.mark.parametrize("question, leans", [
    ("And who signs that off?", True),
    ("What about the legal side?", True),
    ("Which definitions of artificial intelligence does the Buying AI guide point readers to?", False),
    ("Which contract clauses should cover who owns the data a vendor's model is trained on?", False),
])
def test_a_follow_up_is_read_with_the_question_before_it(judge, question, leans):
    from assistant.followup import standalone_question

    previous = (Turn("What should the contract say about our data?", ""),)
    standalone = standalone_question(question, list(previous), needs_history=judge.needs_history)
    assert (standalone != question) == leans


def passage(judged: float | None, text: str = "The contract should state that the public body owns its data.") -> Passage:
    signals = {} if judged is None else {"judge": judged}
    return Passage(rank=1, chunk_id="c", doc_id="d", section="Contract clauses > Data", page=None, text=text, score=1.0,
                   provenance=Provenance(title="Contract clauses"), similarity=0.6, signals=signals)


@pytest.mark.parametrize("question, best, refuse, kind, reason", [
    ("Who owns our data?", 0.9, False, "answer", ""),
    ("Who owns our data?", 0.3, False, "closest", NOT_DIRECTLY),
    ("Who owns our data?", 0.05, True, "refusal", NOT_COVERED),
    ("Under the National Audit Act 1983, who owns our data?", 0.9, True, "refusal", "does not cover the National Audit Act 1983"),
    ("What does the 'Algorithmic Trust Seal' require of us?", 0.9, True, "refusal", "does not mention “Algorithmic Trust Seal”"),
])
def test_the_verdict_follows_answerability_and_names_it_never_saw(question, best, refuse, kind, reason):
    # a model that reads the judge's best unit alone, with the training's cut-offs: the policy's bands
    alone = [1.0 if name == "best" else 0.0 for name in FEATURES]
    model = Answerability([0.0] * len(FEATURES), [1.0] * len(FEATURES), [[[v] for v in alone]], [[0.0]],
                          {"thresholds": {"answer": 0.5, "closest": 0.2}})
    verdict = RefusalPolicy(judge=JudgeSettings(), known=lambda term: term not in {"algorithm", "trust", "seal"},
                            answerability=model).check(question, [passage(best)])
    assert (verdict.refuse, verdict.kind) == (refuse, kind) and reason in verdict.reason
    if "does not" not in reason:  # the bands, not a name the guidance never uses
        assert verdict.confidence == pytest.approx(best, abs=1e-3)


def test_settings_override_the_cut_offs_training_picked():
    alone = [1.0 if name == "best" else 0.0 for name in FEATURES]
    model = Answerability([0.0] * len(FEATURES), [1.0] * len(FEATURES), [[[v] for v in alone]], [[0.0]],
                          {"thresholds": {"answer": 0.5, "closest": 0.2}})
    strict = RefusalPolicy(judge=JudgeSettings(answer=0.95, closest=0.8), answerability=model)
    assert strict.check("Who owns our data?", [passage(0.9)]).kind == "closest"
    assert strict.check("Who owns our data?", [passage(0.5)]).kind == "refusal"


def test_shipped_answerability_separates_the_validation_questions():
    """The shipped model's card: fitted on training questions, its cut-offs picked on validation questions it
    never saw, and what they do there."""
    model = Judge().answerability
    assert model is not None and model.card["picked_on"] == "validation"
    figures = model.card["validation"]
    assert figures["auc"] > figures["judge_best_unit_auc"]  # the features add to the judge's best unit alone
    assert figures["false_refusals"] <= 0.05 and figures["refusals"] >= REFUSED_AT_LEAST


def test_with_a_judge_a_question_about_nothing_in_the_guidance_is_refused_whatever_the_judge_says():
    """A unit the judge likes is no answer when no passage is about the question ("write a poem"): under the
    topic floor the question is refused outright, neither answered nor hedged as "the closest it says"."""
    alone = [1.0 if name == "best" else 0.0 for name in FEATURES]
    model = Answerability([0.0] * len(FEATURES), [1.0] * len(FEATURES), [[[v] for v in alone]], [[0.0]],
                          {"thresholds": {"answer": 0.5, "closest": 0.2}})
    policy = RefusalPolicy(judge=JudgeSettings(), answerability=model)
    liked = passage(0.9)
    liked.similarity = 0.12
    verdict = policy.check("Please write a poem about spring.", [liked])
    assert (verdict.refuse, verdict.kind, verdict.reason) == (True, "refusal", NOT_COVERED)
    welsh = passage(0.9)
    welsh.similarity, welsh.provenance = 0.3, Provenance(title="Pecyn Cymorth", language="cy")
    assert policy.check("Please write a poem about spring.", [welsh, liked]).refuse  # read in the question's language
    assert policy.check("Please write a poem about spring.", [welsh]).refuse  # Welsh alone is no topic for English
    liked.similarity = 0.3  # about the question, however loosely: the judge decides
    assert policy.check("Who owns our data?", [liked]).kind == "answer"


def test_the_card_says_where_the_topic_floor_falls_among_the_written_questions():
    """The floor is set where 1 in 1,000 answerable training questions falls under it; the fit records where that
    is for the embedder it ran with, and what the floor in the settings refuses, so a new embedder shows."""
    import numpy as np

    from assistant.judge.fit import topic_floor

    answerable = np.linspace(0.1, 0.9, 2001)  # one in 1,000 under 0.1008
    similarity = np.concatenate([answerable, [0.05, 0.12, 0.3, 0.5]])
    labels = np.array([1] * len(answerable) + [0] * 4)
    floor = topic_floor(similarity, labels, 0.2)
    assert floor["cut"] == 0.2 and floor["answerable_one_in_1000"] == pytest.approx(0.1008, abs=1e-4)
    assert floor["answerable_under"] == pytest.approx(250 / 2001, abs=1e-4) and floor["unanswerable_under"] == 0.5


def test_without_a_judge_a_distant_question_is_refused_on_similarity():
    far = passage(None)
    far.similarity = 0.1
    assert RefusalPolicy().check("Any good lasagna recipes?", [far]).refuse
    assert not RefusalPolicy().check("Who owns our data?", [passage(None)]).refuse


def test_train_rebuilds_a_judge_from_written_questions(tmp_path):
    """`procure-ai train` from a handful of lines over a small corpus: a model that loads, and its card."""
    import os
    import subprocess
    import sys

    corpus = write_corpus(tmp_path / "corpus")
    data = tmp_path / "train"
    data.mkdir()
    (data / "held-out.txt").write_text("# none\n", encoding="utf-8")
    lines = [
        {"id": "t1", "question": "Who signs off on the vendor?", "answerable": True, "doc": "guide/who.md",
         "evidence": ["who leads the procurement process and signs off the vendor selection"], "kind": "who",
         "persona": "officer"},
        {"id": "t2", "question": "What happens to our data at the end?", "answerable": True, "doc": "guide/clauses.md",
         "evidence": ["the vendor must return or delete data at the end of the contract"], "kind": "fact",
         "persona": "officer"},
        {"id": "t3", "question": "Best lasagna recipe?", "answerable": False, "kind": "out_of_scope", "why": "food"},
        {"id": "t4", "type": "followup", "history": [{"question": "Who signs off on the vendor?"}],
         "question": "And the legal side?", "needs_history": True, "standalone": "Who covers the legal side?",
         "answerable": True, "doc": "guide/who.md", "evidence": ["who can help navigate data, liability"]},
        {"id": "t5", "question": "Since the guide says the vendor may keep our data after the contract, for how long?",
         "answerable": False, "kind": "false_premise", "near_doc": "guide/clauses.md",
         "near_evidence": ["the vendor must return or delete data at the end of the contract"], "why": "it must not"},
        {"id": "t6", "question": "The guide says data goes back or is deleted at the end: who checks that?",
         "answerable": True, "kind": "true_premise", "doc": "guide/clauses.md", "premise": "data is returned or deleted",
         "evidence": ["the vendor must return or delete data at the end of the contract"], "persona": "officer"},
    ]
    (data / "lines.jsonl").write_text("".join(json.dumps(l) + "\n" for l in lines), encoding="utf-8")
    out = tmp_path / "model"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PROCURE_AI_DATA_DIR": str(tmp_path / "data")}
    result = subprocess.run([sys.executable, "-m", "assistant.cli", "train", str(corpus), "--data", str(data), "--out",
                             str(out), "--json"], env=env, capture_output=True, text=True, timeout=900, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-2000:]
    cards = json.loads(result.stdout)
    tuned = cards["retriever"]  # the embedder, tuned first (its layers beside the judge, under --out)
    assert tuned["data_sha256"] == data_hash(data) and tuned["examples"]["train"] >= 2
    assert (out / "tuned.safetensors").stat().st_size == tuned["file_bytes"]
    card = cards["judge"]
    assert card["data_sha256"] == data_hash(data) and card["pairs"]["train"] > 0
    assert (out / "judge.onnx").stat().st_size < 40_000_000  # int8
    assert 0.0 <= Judge(out).answers("Who signs off?", ["Who to involve: a procurement officer signs off."])[0] <= 1.0
    fitted = Judge(out).answerability  # with its form model, read over the embedder the index used
    assert fitted.form is not None and fitted.card["embedder"] and "auc_form_kinds" in fitted.card["form_validation"]
    premise = cards["premise"]  # the premise check, trained after the judge into the same folder
    assert premise["data_sha256"] == premise_hash(data) and premise["counts"]["train"]["pairs:1"] >= 1
    assert 0.5 <= premise["cut"] <= 0.99
    assert 0.0 <= Premise(out).contradicts("Who signs off?", ["Who to involve: an officer signs off."])[0] <= 1.0
    # a new judge reads other units first: --only premise-cut picks the premise check's cut-off again, the model kept
    (out / "premise.json").write_text(json.dumps({**json.loads((out / "premise.json").read_text()), "cut": 0.42}))
    again = subprocess.run([sys.executable, "-m", "assistant.cli", "train", str(corpus), "--data", str(data), "--out",
                            str(out), "--only", "premise-cut", "--json"], env=env, capture_output=True, text=True,
                           timeout=900, cwd=ROOT)
    assert again.returncode == 0, again.stderr[-2000:]
    repicked = json.loads(again.stdout)["premise"]
    assert repicked["cut"] == premise["cut"] and Premise(out).cut == premise["cut"]  # the same judge: the same cut-off
    assert repicked["data_sha256"] == premise["data_sha256"]
