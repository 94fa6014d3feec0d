"""Expand the templates in rule examples into concrete test strings.

Rule files must not hold live-looking credentials (push protection rejects them, and they would be
real leaks if copied), so examples name the shape of a token and tests fill it in at run time:

``{alnum:36}`` 36 random characters of a class; ``{token:ghp_}`` a checksum-valid token from the
generator registered for the rule's ``checksum``, with the given prefix. Other braces are literal.
"""

from __future__ import annotations

import random
import string

import regex

from leakvault.patterns.validators import GENERATORS

CHARACTER_CLASSES: dict[str, str] = {
    "alnum": string.ascii_letters + string.digits,
    "alpha": string.ascii_letters,
    "lower": string.ascii_lowercase,
    "upper": string.ascii_uppercase,
    "digits": string.digits,
    "hex": "0123456789abcdef",
    "HEX": "0123456789ABCDEF",
    "lowalnum": string.ascii_lowercase + string.digits,
    "upalnum": string.ascii_uppercase + string.digits,
    "b64": string.ascii_letters + string.digits + "+/",
    "b64url": string.ascii_letters + string.digits + "-_",
    "b32": string.ascii_uppercase + "234567",
}

TEMPLATE = regex.compile(r"\{(?P<kind>token|" + "|".join(CHARACTER_CLASSES) + r"):(?P<arg>[^{}]*)\}")


def has_template(text: str) -> bool:
    """Whether ``text`` contains a template placeholder."""
    return TEMPLATE.search(text) is not None


def expand(text: str, checksum: str | None, rng: random.Random) -> str:
    """Replace every placeholder in ``text`` with freshly generated characters."""

    def fill(match: regex.Match[str]) -> str:
        kind, arg = match["kind"], match["arg"]
        if kind == "token":
            if checksum is None or checksum not in GENERATORS:
                raise ValueError("{token:...} needs a rule with a registered checksum generator")
            return GENERATORS[checksum](arg, rng)
        alphabet = CHARACTER_CLASSES[kind]
        return "".join(rng.choice(alphabet) for _ in range(int(arg)))

    return TEMPLATE.sub(fill, text)
