"""Redaction: how a secret appears in any output unless the user passes ``--no-redact``."""

from __future__ import annotations

MASK = "*****"
MAX_SHOWN = 4  # characters of prefix kept: enough to recognise a token type (ghp_, AKIA, sk-)
PREVIEW_WIDTH = 160


def redact(secret: str) -> str:
    """A recognisable but useless form of ``secret``: at most a fifth of it, at most 4 characters."""
    keep = min(MAX_SHOWN, len(secret) // 5)
    shown = secret[:keep] + MASK
    # A secret that is itself mostly asterisks could survive the mask; show nothing of it then.
    return MASK if secret in shown else shown


def preview(line_text: str, secrets: list[str], reveal: bool) -> str:
    """The line a finding sits on, with every known secret on it redacted, shortened to fit."""
    text = line_text
    if not reveal:
        for secret in secrets:
            text = _mask_cut_off(text, secret)
    text = text.strip()
    if not reveal:
        for secret in sorted(set(secrets), key=len, reverse=True):
            if secret:
                text = text.replace(secret, redact(secret))
    if len(text) > PREVIEW_WIDTH:
        anchor = text.find(redact(secrets[0]) if not reveal and secrets else (secrets[0] if secrets else ""))
        start = max(0, min(anchor - PREVIEW_WIDTH // 3, len(text) - PREVIEW_WIDTH)) if anchor >= 0 else 0
        text = ("..." if start else "") + text[start : start + PREVIEW_WIDTH] + "..."
    return text


def _mask_cut_off(text: str, secret: str) -> str:
    """``text`` with ``secret`` masked from where it starts when it runs past the end of ``text``:
    a secret spanning lines, or one longer than the context a finding keeps of its line, is not a
    substring of the line, and would otherwise show in full up to the line's end."""
    if not secret or secret in text:
        return text
    for start in range(max(0, len(text) - len(secret) + 1), len(text)):
        if secret.startswith(text[start:]):
            return text[:start] + redact(secret)
    return text
