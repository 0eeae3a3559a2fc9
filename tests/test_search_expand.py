"""A section's opening passage comes back with the subsection it leads into ("Key roles include" and its list)."""

from __future__ import annotations

from corpus.settings import RetrievalSettings
from index.search import Searcher

FLAGSHIP = "We're buying an off-the-shelf chatbot licence: who do we need to involve?"


def who_to_involve(passages):
    return [p for p in passages if p.section == "Who to involve"]


def test_the_who_to_involve_passage_carries_its_list_of_roles(mirror_index):
    passages = Searcher(mirror_index).search(FLAGSHIP, 5)
    [who] = who_to_involve(passages)
    assert "Key roles include" in who.text  # the subsection's heading, as it stands in the text
    assert all(role in who.text for role in ["Procurement officer, who", "Legal officer, who", "IT/Data science expert"])
    assert len(who.text.split()) <= 400 and all(len(p.text.split()) <= 500 for p in passages)
    assert who.section == "Who to involve" and who.start < who.end  # cited as the section, spanning the list
    # without taking in subsections, the same search returns the intro alone
    [plain] = who_to_involve(Searcher(mirror_index, RetrievalSettings(children=0)).search(FLAGSHIP, 5))
    assert "Legal officer, who" not in plain.text and len(plain.text) < len(who.text)


def test_a_subsection_that_would_make_the_passage_too_long_stays_out(mirror_index):
    [short] = who_to_involve(Searcher(mirror_index, RetrievalSettings(max_words=230)).search(FLAGSHIP, 5))
    assert "Legal officer, who" not in short.text and len(short.text.split()) <= 230
    # and a passage is never returned twice: the list, once inside the section's passage, is not repeated
    passages = Searcher(mirror_index).search(FLAGSHIP, 10)
    assert sum("Legal officer, who can help navigate" in p.text for p in passages) == 1
