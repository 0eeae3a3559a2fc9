"""The search index: embeddings in Chroma, a BM25 keyword index beside it, and the catalog that ties them."""
