"""The trained judge: which passage, which sentence or list, whether anything answers, and follow-ups."""
