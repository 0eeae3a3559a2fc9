"""The offline answerer on hand-made passages: what it quotes, and what it leaves out (no index, no model)."""

from __future__ import annotations

import pytest

from assistant.extractive import ExtractiveAnswerer
from corpus.records import Passage, Provenance
from corpus.settings import AnswerSettings

def passage(name: str, section: str, text: str, rank: int = 1, score: float = 1.0) -> Passage:
    """A hand-made passage of guide/<name>.md, titled by its section's first part."""
    return Passage(rank=rank, chunk_id=name, doc_id=f"guide/{name}.md", section=section, page=None, score=score,
                   provenance=Provenance(title=section.split(" > ")[0]), text=text)


WHO = passage(
    "who", "Who to involve",
    "- Who: Procurement teams\n\nProcuring AI may require input across a range of stakeholders.\n\n"
    "Key roles include:\n\n- Procurement officer, who leads the procurement process.\n"
    "- Legal officer, who can help navigate data and liability.\n- IT expert, who checks the technical fit.",
)
CLAUSES = passage(
    "clauses", "Contract clauses > Data",
    "The contract should state that the public body owns its data and any outputs. "
    "The contract should state that the public body owns all of its data and any outputs. "
    "The vendor must return or delete the data when the contract ends.",
    rank=2, score=0.8,
)
ROLES = passage(
    "roles", "Who to involve",
    "Key roles include:\n\n- Procurement officer, who leads the procurement process.\n"
    "- Project team leader, who represents the team buying. In the best case, this person owns the product "
    "and the procurement roles.\n- Legal officer, who reviews the contract.",
)
READING = passage(
    "reading", "Contract clauses > Resources",
    "Resources on data ownership clauses in contracts are listed in the annex of the model contract.",
    rank=3, score=0.7,
)


def answer(question: str, passages, **settings):
    return ExtractiveAnswerer(settings=AnswerSettings(**settings)).answer(question, passages)


@pytest.mark.parametrize("question, passages, settings, quoted, not_quoted", [
    # a list that answers "who" is quoted by its items' names, under the line that introduces it
    ("Which roles should be involved?", [WHO], {},
     ["Key roles include: Procurement officer; Legal officer; IT expert."], ["Who: Procurement teams"]),
    # a detail of a list item that leans on it ("In the best case, this person ...") is not quoted after the list
    ("Which roles should be involved in the procurement?", [ROLES], {},
     ["Procurement officer; Project team leader; Legal officer."], ["this person"]),
    # of two near-identical sentences, one is quoted
    ("Who owns the data and outputs under the contract?", [CLAUSES], {},
     ["owns its data and any outputs"], ["owns all of its data"]),
    # a reading list answers after the guidance itself
    ("What should contracts say about data ownership?", [READING, CLAUSES], {"word_budget": 15},
     ["owns its data and any outputs"], ["Resources on data ownership"]),
    # the word budget: after the first pick, nothing that would overrun it
    ("What happens to the data when the contract ends and who owns it?", [CLAUSES], {"word_budget": 10},
     ["return or delete the data"], ["owns its data"]),
])
def test_what_the_answer_quotes(question, passages, settings, quoted, not_quoted):
    result = answer(question, passages, **settings)
    assert not result.refused
    for text in quoted:
        assert text in result.answer, f"{text!r} not quoted in:\n{result.answer}"
    for text in not_quoted:
        assert text not in result.answer, f"{text!r} quoted in:\n{result.answer}"


CHECKINS = passage(
    "checkins", "Contract management > Tips",
    "How often you check in with a vendor will vary. Fit your vendor management approach to the size and scope of "
    "the contract.\n\nUnrelated advice about invoices and prompt payment belongs to another paragraph.",
)
SIGNERS = passage(
    "signers", "Who to involve > Key roles",
    "- Procurement officer, who leads the procurement process and signs off the vendor selection.\n"
    "- Legal officer, who can help navigate data, liability and intellectual property.",
)
ADVISORS = passage(
    "advisors", "Who to involve > Advisors",
    "Legal and IT experts should be consulted early in the process. They are usually in an advisory role, unless "
    "they are also the buyer.",
)


@pytest.mark.parametrize("question, passages, quoted, not_quoted", [
    # a sentence that only introduces brings the next one of its paragraph, where the substance is
    ("How often should we check in with the vendor?", [CHECKINS],
     ["How often you check in with a vendor will vary.", "size and scope of the contract"], ["invoices"]),
    # a sentence that leans on the one before ("They ...") brings that one, so the quote makes sense
    ("Are they usually in an advisory role?", [ADVISORS],
     ["usually in an advisory role", "Legal and IT experts should be consulted"], []),
    # the item after, on the next line: the citation still quotes the passage's own text (its line break kept)
    ("Who signs off on the vendor selection?", [SIGNERS], ["signs off the vendor selection", "Legal officer"], []),
])
def test_a_quoted_sentence_brings_its_context(question, passages, quoted, not_quoted):
    result = answer(question, passages, word_budget=40)
    assert result.citations and all(c.quote in c.text for c in result.citations)
    for text in quoted:
        assert text in result.answer, f"{text!r} not quoted in:\n{result.answer}"
    for text in not_quoted:
        assert text not in result.answer, f"{text!r} quoted in:\n{result.answer}"


def test_every_quoted_sentence_is_cited_to_the_passage_it_comes_from():
    result = answer("What should the contract say about data?", [WHO, CLAUSES])
    by_n = {c.n: c for c in result.citations}
    assert result.sentences and all(s.citations for s in result.sentences)
    for sentence in result.sentences:
        assert all(sentence.text.lstrip("- ") in by_n[n].text for n in sentence.citations)
    assert [c.n for c in result.citations] == list(range(1, len(result.citations) + 1))


def test_no_passages_is_a_refusal_with_nothing_cited():
    result = answer("Anything at all?", [])
    assert result.refused and not result.citations and not result.answer
