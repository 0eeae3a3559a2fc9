"""A trainer's question deck: the file formats it reads, and the check that flags answers before going live."""

from __future__ import annotations

import pytest

from assistant.cli.main import main
from assistant.deck import DeckError, Slide, load_deck, prepare, problems_of, report
from corpus.records import Answer, Citation, Provenance, Sentence
from corpus.records import Scope


def test_a_text_deck_takes_one_question_per_line_skipping_comments_and_list_markers(tmp_path):
    deck = tmp_path / "webinar.md"
    deck.write_text("# Session 1\n\n- Who signs off?\n* What about data?\n1. Is a pilot a good idea?\n"
                    "  # an indented comment\nWhat is a hallucination?\n-1 is not a list marker?\n", encoding="utf-8")
    assert [q.question for q in load_deck(deck)] == [
        "Who signs off?", "What about data?", "Is a pilot a good idea?", "What is a hallucination?", "-1 is not a list marker?"]
    assert all(q.scope == Scope() for q in load_deck(deck))


def test_a_jsonl_deck_may_scope_each_question(tmp_path):
    deck = tmp_path / "deck.jsonl"
    deck.write_text('{"question": "Who signs off?"}\n\n# comment\n{"question": "Exit?", "doc": "guide/clauses.md"}\n', encoding="utf-8")
    questions = load_deck(deck)
    assert [q.question for q in questions] == ["Who signs off?", "Exit?"]
    assert questions[1].scope == Scope.of(None, "guide/clauses.md")


@pytest.mark.parametrize("name, text, message", [
    ("deck.jsonl", '{"question": "ok"}\n{"q": "no"}\n', "line 2: not a JSON object with a 'question'"),
    ("deck.jsonl", "not json\n", "line 1"),
    ("deck.txt", "# only comments\n\n", "has no questions"),
    ("missing.txt", None, "cannot read the deck"),
])
def test_a_bad_deck_is_a_clear_error(tmp_path, name, text, message):
    deck = tmp_path / name
    if text is not None:
        deck.write_text(text, encoding="utf-8")
    with pytest.raises(DeckError, match=message):
        load_deck(deck)


def test_serve_refuses_a_bad_deck_before_loading_the_model(tmp_path, capsys):
    assert main(["serve", "--deck", str(tmp_path / "missing.txt"), "--data-dir", str(tmp_path)]) == 2
    assert "cannot read the deck" in capsys.readouterr().err


def _answer(refused=False, citations=1, supported=(True,), answerer="extractive", text="text") -> Answer:
    cites = [Citation(n, "d", "T", None, "text", Provenance(title="T")) for n in range(1, citations + 1)]
    sentences = [Sentence(f"s{i}", [1] if citations else [], ok, 0.9 if ok else 0.2) for i, ok in enumerate(supported)]
    return Answer("q", text, refused, cites, sentences=sentences, answerer=answerer)


def test_the_check_flags_refusals_missing_citations_and_unsupported_sentences():
    assert problems_of(_answer()) == []
    assert problems_of(_answer(refused=True)) == ["refused (the guidance does not answer it as asked)"]
    assert problems_of(_answer(citations=0)) == ["no citations"]
    assert problems_of(_answer(supported=(True, False))) == ["1 sentence(s) not supported by the passage they cite (left out)"]
    assert "marked [unsupported]" in problems_of(_answer(supported=(False, True), answerer="llm", text="s0 [unsupported] s1 [1]"))[0]


class _Assistant:
    """Stands in for Assistant.ask: answers by rule, raises QuestionError for an empty question."""

    def ask(self, question, scope=Scope()):
        from assistant.service import check_question

        check_question(question)
        return _answer(refused="France" in question)


def test_prepare_answers_every_question_and_the_report_lists_them():
    from assistant.deck import DeckQuestion

    slides = prepare(_Assistant(), [DeckQuestion("Who signs off?"), DeckQuestion("Capital of France?"), DeckQuestion("  ")])
    assert [s.ready for s in slides] == [True, False, False]
    assert slides[2].answer is None and slides[2].problems[0].startswith("cannot be asked: the question is empty")
    text = report(slides)
    assert text.splitlines()[0] == "Deck check: 3 questions, 1 ready, 2 flagged"
    assert "  ready    1. Who signs off? (1 source)" in text
    assert "  FLAGGED  2. Capital of France?: refused" in text
    assert Slide(1, "q", _answer()).to_dict()["answer"]["answer"] == "text"
