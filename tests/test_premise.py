"""The premise check: a question built on something the guidance does not say is told so, with what the
guidance does say quoted and cited; the shipped model is the one its data builds and tells a twisted premise
from the same claim stated truly."""

from __future__ import annotations

import json

import pytest
from conftest import ROOT

from assistant.extractive import ExtractiveAnswerer
from assistant.frame import frame
from assistant.judge.answerable import FEATURES, Answerability
from assistant.judge.model import MODEL_DIR
from assistant.judge.premise import Premise, data_hash, pick_cut
from assistant.refusal import RefusalPolicy
from assistant.service import Assistant
from corpus.records import Passage, Provenance
from corpus.settings import JudgeSettings

TRAIN = ROOT / "evals" / "train"
SAYS = "Regular monitoring of the AI system's performance is needed throughout the contract."
ASIDE = "The contract should state that the public body owns its data and any outputs."


class Found:
    """A searcher at the assistant's seam that returns passages as the judge's reranking leaves them."""

    def __init__(self, passages):
        self.passages = passages

    def search(self, query, k=None, scope=None):
        return self.passages

    def catalog(self):
        from index.catalog import Catalog

        return Catalog({})


def judged(text: str, contradicts: float, n: int = 1) -> Passage:
    signals = {"judge": 0.9, "units": {0: 0.9}, "premise": {0: contradicts}}
    return Passage(rank=n, chunk_id=f"c{n}", doc_id=f"guide/{n}.md", section="Contract management", page=None,
                   text=text, score=1.0, provenance=Provenance(title="Contract management"), similarity=0.7,
                   signals=signals)


def assistant(passages, cut=0.6, doubt=None):
    confident = Answerability([0.0] * len(FEATURES), [1.0] * len(FEATURES),
                              [[[1.0 if f == "best" else 0.0] for f in FEATURES]], [[0.0]],
                              {"thresholds": {"answer": 0.5, "closest": 0.2}})
    policy = RefusalPolicy(judge=JudgeSettings(), answerability=confident, premise_cut=cut, premise_doubt=doubt)
    return Assistant(Found(passages), ExtractiveAnswerer(), policy=policy)


def test_a_contradicted_premise_is_told_so_and_what_the_guidance_says_is_quoted():
    question = "Since the guide says AI systems are set-and-forget once bought, what is the least monitoring we need?"
    answer = assistant([judged(ASIDE, 0.1, 1), judged(SAYS, 0.93, 2)]).ask(question)
    assert answer.kind == "premise" and not answer.refused
    assert answer.answer.startswith(frame()("premise"))
    assert [c.quote for c in answer.citations] == [SAYS] and answer.citations[0].doc_id == "guide/2.md"
    assert answer.to_dict()["kind"] == "premise"


def test_under_the_cut_off_the_question_is_answered():
    answer = assistant([judged(SAYS, 0.4, 1)]).ask("How often should we check the AI system's performance?")
    assert answer.kind == "answer" and SAYS in answer.answer


def test_an_unsure_premise_check_hedges_an_answer_it_would_give_plainly():
    """Between the doubt cut-off and the cut-off the guidance is quoted as "the closest it says", not as its word;
    under the doubt cut-off the question is answered."""
    question = "Since the guide says monitoring can stop after go-live, how often should we check performance?"
    hedged = assistant([judged(SAYS, 0.3, 1)], doubt=0.2).ask(question)
    assert hedged.kind == "closest" and not hedged.refused and hedged.answer.startswith(frame()("not_directly"))
    assert [c.quote for c in hedged.citations] == [SAYS]
    assert assistant([judged(SAYS, 0.1, 1)], doubt=0.2).ask(question).kind == "answer"
    assert assistant([judged(SAYS, 0.3, 1)]).ask(question).kind == "answer"  # no doubt cut-off: answered


def test_the_doubt_cut_off_reaches_at_most_its_share_of_answerable_questions():
    answerable = [0.001] * 90 + [0.05, 0.1, 0.2, 0.3, 0.4, 0.6, 0.7, 0.8, 0.9, 0.95]
    picked = pick_cut(answerable, [0.02, 0.3, 0.5, 0.9], share=0.02, doubts=0.05)
    assert picked["cut"] == pytest.approx(0.8001) and picked["answerable_flagged"] == 0.02
    assert picked["doubt"] == pytest.approx(0.4001) and picked["answerable_doubted"] == 0.05
    assert picked["false_doubted"] == 0.5 and picked["false_flagged"] == 0.25
    assert "doubt" not in pick_cut(answerable, [0.9], share=0.02)


def test_the_shipped_premise_check_was_trained_on_the_data_in_the_repository():
    """Change the training data and this fails until `procure-ai train` rebuilds the model."""
    card = json.loads((MODEL_DIR / Premise.card_name).read_text(encoding="utf-8"))
    assert card["data_sha256"] == data_hash(TRAIN)
    assert card["validation_int8"]["contradicts_pair_auc"] > 0.7  # the int8 model, on held-apart questions
    assert card["answerable_flagged"] <= 0.02 and card["false_flagged"] >= 0.2  # at its cut-off, validation
    assert Premise().cut == card["cut"] and Premise(settings=JudgeSettings(premise_cut=0.8)).cut == 0.8
    assert card["doubt"] < card["cut"] and card["answerable_doubted"] <= 0.06  # the doubt band, validation
    assert card["false_doubted"] >= card["false_flagged"] + 0.15
    assert Premise().doubt == card["doubt"] and Premise(settings=JudgeSettings(premise_doubt=0.3)).doubt == 0.3


def test_a_question_refused_anyway_is_not_corrected_with_a_quote():
    """A unit the premise check flags is no answer to a question the guidance does not cover at all."""
    far = judged(SAYS, 0.97, 1)
    far.signals.update({"judge": 0.01, "units": {0: 0.01}})
    answer = assistant([far]).ask("Excel formula to flag rows where a date is under 90 days away, please")
    assert answer.refused and answer.kind == "refusal" and not answer.citations


def test_a_contradicting_list_item_is_quoted_with_its_whole_list():
    roles = ("Key roles include:\n- Procurement officer, who leads the procurement process.\n"
             "- Project team leader, who owns the project's goals.\n- Legal officer, who can help navigate liability.\n")
    flagged = judged(roles, 0.0, 1)
    flagged.signals["premise"] = {roles.index("- Legal"): 0.95}
    answer = assistant([flagged]).ask("Since the guide says the legal officer leads the procurement, what do they sign?")
    assert answer.kind == "premise"
    assert all(name in answer.answer for name in ("Procurement officer", "Project team leader", "Legal officer"))


def test_a_contradicting_sentence_is_quoted_with_its_paragraphs_point():
    """A sentence from the middle of a paragraph is quoted after the sentence that states the paragraph's point; a
    paragraph further on is not pulled in."""
    point = "Reality: AI systems require ongoing attention, though the level varies."
    text = f"{point} {SAYS}\n\n{ASIDE}"
    flagged = judged(text, 0.0, 1)
    flagged.signals["premise"] = {text.index(SAYS): 0.95}
    answer = assistant([flagged]).ask("Since the guide says AI systems are set-and-forget, what is the least monitoring?")
    assert answer.kind == "premise"
    assert [s.text for s in answer.sentences] == [point, SAYS] and ASIDE not in answer.answer
    assert answer.citations[0].quote == f"{point} {SAYS}"
