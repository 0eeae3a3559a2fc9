"""Answers questions from the index with cited passages; the CLI and chat sit on top of it."""
