"""Hypothesis strategies shared across test modules."""

from __future__ import annotations

from hypothesis import strategies as st

# Secrets as they occur: printable, no whitespace, of plausible length.
secrets = st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=0x2FFF), min_size=1, max_size=200)
