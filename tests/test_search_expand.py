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


def test_a_section_beside_a_better_one_is_still_returned(tmp_path, make_index):
    """Widening a chunk to its neighbours takes in only its own section: the next section, also about the
    question, is a passage of its own, not swallowed by the first one's window and lost."""
    from ingest.chunker import Chunker
    from index.update import update

    corpus = tmp_path / "corpus"
    (corpus / "guide").mkdir(parents=True)
    (corpus / "guide" / "myths.md").write_text(
        "# Myths\n\n## Myth: open source is always more risky\n\nReality: neither open source nor proprietary "
        "software is inherently safer; security depends on how it is run.\n\n"
        "## Myth: open source is always safer and cheaper\n\nReality: open source offers transparency but is not "
        "automatically better; licence fees saved can be spent on support.\n\n"
        "## Myth: one supplier locks us in\n\nReality: plan an exit from the start.\n", encoding="utf-8")
    index = make_index(tmp_path / "data")
    update(index, [corpus], Chunker(max_tokens=60, count_tokens=index.embedder.count_tokens))
    sections = [p.section for p in Searcher(index).search("Is open source always safer?", 3)]
    assert "Myths > Myth: open source is always safer and cheaper" in sections
    assert "Myths > Myth: open source is always more risky" in sections
