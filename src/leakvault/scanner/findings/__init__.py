"""Findings: fingerprints, redaction and baselines."""
