"""Benchmarks: speed on the mirror, scale to a million synthetic passages, load from many users. Apart from the quality evals."""
