"""Documents can leave: `procure-ai remove` by id, path, folder or collection, atomic like ingest; collections
name ingested folders; `procure-ai status` lists documents by collection."""

from __future__ import annotations

import json
import shutil

import pytest
from conftest import write_corpus
from test_faults import POLICY, assert_one_line_error, cli

from corpus.records import Scope
from ingest.chunker import Chunker
from ingest.discover import InputError
from index.catalog import load_catalog
from index.search import Searcher, UnknownScope
from index.update import remove, update

PORTAL = {"portal.md": "# Tender portal\n\nTest the tender portal with screen reader users before launch.\n",
          "sub/helpdesk.md": "# Helpdesk\n\nThe helpdesk sends tender documents in an accessible format on request.\n"}


@pytest.fixture
def two_folders(small_corpus, tmp_path, make_index, embedder):
    """The small corpus, and a folder of our policies ingested into the collection "our policies"."""
    index = make_index(tmp_path / "data")
    chunker = Chunker(count_tokens=embedder.count_tokens)
    update(index, [small_corpus], chunker)
    policies = write_corpus(tmp_path / "policies", {**POLICY, **PORTAL})
    update(index, [policies], chunker, collection="our policies")
    return index, small_corpus, policies


def test_folders_get_a_collection_and_search_in_limits_answers_to_it(two_folders, tmp_path, make_index, embedder):
    index, corpus, policies = two_folders
    docs = load_catalog(tmp_path / "data").documents
    assert docs["guide/who.md"].collection == "Test Guide"  # the manifest's
    assert docs["corpus/notes/meeting.txt"].collection == "corpus"  # the folder's name
    assert {docs[d].collection for d in ("policies/ai-policy.md", "policies/portal.md", "policies/sub/helpdesk.md")} == {"our policies"}
    hits = Searcher(index).search("who signs off on choosing the vendor?", k=5, scope=Scope.of("our policies"))
    assert hits and {p.provenance.collection for p in hits} == {"our policies"}
    with pytest.raises(UnknownScope, match="no collection 'their policies' in the index"):
        Searcher(index).search("anything", k=3, scope=Scope.of("their policies"))
    # ingested again without --collection, the folder keeps its collection; with it, moves (nothing embedded)
    (policies / "new.md").write_text("# New rule\n\nEvery AI contract names an accountable officer.\n", encoding="utf-8")
    update(index, [policies], Chunker(count_tokens=embedder.count_tokens))
    assert load_catalog(tmp_path / "data").documents["policies/new.md"].collection == "our policies"
    report = update(index, [policies], Chunker(count_tokens=embedder.count_tokens), collection="council rules")
    assert report.embedded_chunks == 0 and len(report.changed_documents) == 4
    moved = Searcher(index).search("accountable officer for AI contracts", k=3, scope=Scope.of("council rules"))
    assert moved[0].doc_id == "policies/new.md" and moved[0].provenance.collection == "council rules"


def test_remove_by_id_path_folder_and_collection(two_folders, tmp_path):
    index, corpus, policies = two_folders
    data = tmp_path / "data"
    count = lambda: (index.store.count(), len(load_catalog(data).chunk_ids()))  # noqa: E731

    report = remove(index, ["corpus/notes/meeting.txt"])
    assert report.removed_documents == ["corpus/notes/meeting.txt"] and report.embedded_chunks == 0
    assert count()[0] == count()[1]
    assert remove(index, [str(corpus / "glossary.csv")]).removed_documents == ["corpus/glossary.csv"]
    assert remove(index, [str(policies / "sub")]).removed_documents == ["policies/sub/helpdesk.md"]
    assert remove(index, [], ["our policies"]).removed_documents == ["policies/ai-policy.md", "policies/portal.md"]
    left = load_catalog(data).documents
    assert set(left) == {"guide/who.md", "corpus/guide/clauses.md", "corpus/page.html"}
    assert count()[0] == count()[1]
    assert all(p.doc_id in left for p in Searcher(index).search("steering group accuracy figures glossary", k=10))
    assert remove(index, [str(corpus)]).removed_documents == sorted(left)
    assert index.store.count() == 0 and not load_catalog(data).documents


def test_remove_names_what_the_index_lacks_and_removes_nothing(two_folders, tmp_path):
    index, corpus, _ = two_folders
    before = load_catalog(tmp_path / "data")
    with pytest.raises(InputError, match=r"not in the index: 'nope\.md'; nothing was removed "
                                         r"\(`procure-ai status` lists the documents by collection\)"):
        remove(index, ["guide/who.md", "nope.md"])
    with pytest.raises(InputError, match=r"not in the index: collection 'theirs'; nothing was removed"):
        remove(index, [], ["Test Guide", "theirs"])
    with pytest.raises(InputError, match="'corpus/page.html' in 'Test Guide'"):  # --collection narrows the targets
        remove(index, ["corpus/page.html"], ["Test Guide"])
    after = load_catalog(tmp_path / "data")
    assert after.generation == before.generation and after.chunk_ids() == before.chunk_ids()


def test_an_emptied_folder_ingested_again_leaves_the_index(two_folders, tmp_path, embedder):
    index, _, policies = two_folders
    shutil.rmtree(policies)
    policies.mkdir()
    report = update(index, [policies], Chunker(count_tokens=embedder.count_tokens))
    assert sorted(report.removed_documents) == ["policies/ai-policy.md", "policies/portal.md", "policies/sub/helpdesk.md"]
    assert not any(d.startswith("policies/") for d in load_catalog(tmp_path / "data").documents)
    assert index.store.count() == len(load_catalog(tmp_path / "data").chunk_ids())


def test_remove_and_status_from_the_command_line(small_corpus, tmp_path):
    data = tmp_path / "data"
    policies = write_corpus(tmp_path / "policies", {**POLICY, **PORTAL})
    assert cli("ingest", str(small_corpus), "--data-dir", str(data)).returncode == 0
    done = cli("ingest", str(policies), "--collection", "our policies", "--data-dir", str(data))
    assert done.returncode == 0 and done.stdout.startswith("Indexed 8 documents")
    status = cli("status", "--data-dir", str(data))
    assert "collection our policies: 3 documents\n  policies/ai-policy.md  Our AI policy  (1 passages)" in status.stdout
    assert "collection Test Guide: 1 documents" in status.stdout and "store: holds the index" in status.stdout
    info = json.loads(cli("status", "--json", "--data-dir", str(data)).stdout)
    assert info["by_collection"]["our policies"] == ["policies/ai-policy.md", "policies/portal.md", "policies/sub/helpdesk.md"]

    gone = cli("remove", "--collection", "our policies", "--data-dir", str(data))
    assert gone.returncode == 0, gone.stderr
    assert gone.stdout.startswith("Removed: 5 documents") and "  removed policies/portal.md" in gone.stdout
    line = assert_one_line_error(cli("remove", "policies/portal.md", "--data-dir", str(data)))
    assert "not in the index: 'policies/portal.md'; nothing was removed" in line
    asked = cli("ask", "How do bidders get accessible tender documents?", "--doc", "policies/portal.md", "--data-dir", str(data))
    assert "no document 'policies/portal.md' in the index" in assert_one_line_error(asked)
