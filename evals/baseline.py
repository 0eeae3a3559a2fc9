"""The textbook LlamaIndex pipeline, for comparison: 1024-token chunks, dense retrieval only, over Chroma.

SimpleDirectoryReader -> SentenceSplitter(1024) -> VectorStoreIndex on a Chroma
collection, with the same embedding model. No cleaning, no keyword index.
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

from corpus.records import DocumentEntry, Passage, Provenance
from corpus.settings import RetrievalSettings
from index.catalog import Catalog
from index.embedder import Embedder, bundled_model_path
from ingest.plan import file_sha256


class TextbookRetriever:
    """Builds the textbook index in `work_dir` and answers `search(question, k)` with Passages (a Searcher)."""

    name = "textbook"

    def __init__(self, corpus: Path, work_dir: Path, embedder: Embedder, top_k: int = RetrievalSettings.top_k,
                 chunk_size: int = 1024):
        import chromadb
        from chromadb.config import Settings as ChromaSettings
        from llama_index.core import Settings, SimpleDirectoryReader, StorageContext, VectorStoreIndex
        from llama_index.core.node_parser import SentenceSplitter
        from llama_index.embeddings.huggingface import HuggingFaceEmbedding
        from llama_index.vector_stores.chroma import ChromaVectorStore

        model = bundled_model_path() if embedder.name.endswith("(bundled)") else embedder.name
        with contextlib.redirect_stdout(io.StringIO()):  # it prints "Using MockLLM", which would spoil --json
            Settings.llm = None
        Settings.embed_model = HuggingFaceEmbedding(model_name=model, device="cpu")
        documents = SimpleDirectoryReader(
            str(corpus), recursive=True, required_exts=[".md", ".csv", ".pdf", ".txt"], filename_as_id=True
        ).load_data(show_progress=False)
        self.top_k = top_k
        self._catalog = Catalog(model=embedder.name, collection="textbook")
        for doc in documents:
            path = Path(doc.metadata.get("file_path", "")).resolve()
            doc_id = doc.metadata["doc_id"] = path.relative_to(Path(corpus).resolve()).as_posix()
            if doc_id not in self._catalog.documents:
                self._catalog.documents[doc_id] = DocumentEntry(
                    doc_id=doc_id, path=str(path), root=str(corpus), sha256=file_sha256(path), kind=path.suffix[1:],
                    provenance=Provenance(title=path.name))
        client = chromadb.PersistentClient(str(work_dir), settings=ChromaSettings(anonymized_telemetry=False))
        collection = client.get_or_create_collection("textbook")
        storage = StorageContext.from_defaults(vector_store=ChromaVectorStore(chroma_collection=collection))
        self._index = VectorStoreIndex.from_documents(
            documents, storage_context=storage, transformations=[SentenceSplitter(chunk_size=chunk_size)]
        )

    def catalog(self) -> Catalog:
        """The files it indexed (no chunk ids: it keeps its own)."""
        return self._catalog

    def search(self, question: str, k: int | None = None, scope=None) -> list[Passage]:
        """Top-k passages (the scope is ignored: the textbook pipeline has none)."""
        nodes = self._index.as_retriever(similarity_top_k=k or self.top_k).retrieve(question)
        return [
            Passage(
                rank=i, chunk_id=n.node.node_id, doc_id=n.node.metadata.get("doc_id", ""), section="", page=None,
                text=n.node.get_content(), score=float(n.score or 0.0),
                provenance=Provenance(title=n.node.metadata.get("file_name", "")), similarity=float(n.score or 0.0),
            )
            for i, n in enumerate(nodes, start=1)
        ]
