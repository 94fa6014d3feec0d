"""Accuracy benchmark: a generated repository with planted secrets, and a scorer that runs
leakvault and its peers on it (docs/accuracy.md)."""
