"""The guidance corpus: its manifest of sources and the download that fetches them."""

from corpus.manifest import MANIFEST_PATH, Source, load_manifest

__all__ = ["MANIFEST_PATH", "Source", "load_manifest"]
