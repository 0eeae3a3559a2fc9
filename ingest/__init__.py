"""Turns files into cited-ready chunks: read, clean, split, then hand them to the index."""
