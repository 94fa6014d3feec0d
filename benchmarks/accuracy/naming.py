"""Variable names in each language's idiom: ``STRIPE_SECRET_KEY`` becomes ``stripeSecretKey``,
``stripe_secret_key``, ``StripeSecretKey`` or ``stripe.secret-key`` as the file type expects."""

from __future__ import annotations

import re

_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def words(name: str) -> list[str]:
    """The lowercase words of a name in any style."""
    spaced = _CAMEL_BOUNDARY.sub("_", name)
    return [word.lower() for word in re.split(r"[_\-.\s]+", spaced) if word]


def upper(name: str) -> str:
    return "_".join(words(name)).upper()


def snake(name: str) -> str:
    return "_".join(words(name))


def camel(name: str) -> str:
    parts = words(name)
    return parts[0] + "".join(part.capitalize() for part in parts[1:])


def pascal(name: str) -> str:
    return "".join(part.capitalize() for part in words(name))


def dotted(name: str) -> str:
    """Java-properties style; a name that is already dotted stays as it is."""
    return name if "." in name else ".".join(words(name))


def kebab(name: str) -> str:
    return "-".join(words(name))
