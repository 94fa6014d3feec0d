"""Reversible encodings of leakvault paths into the narrower secret names of GCP and Azure.

A leakvault path uses letters, digits, ``_ . - /`` (`leakvault.vault.model`). GCP secret ids
allow ``[A-Za-z0-9_-]`` (case-sensitive); Azure Key Vault names allow ``[0-9a-zA-Z-]`` and compare
case-insensitively. Each codec keeps the characters the service allows and spells the others as
``-`` plus one character, so ``prod/db-password`` stays readable in the cloud console
(``prod--db-0password`` on GCP). Decoding is strict: a name that is not a valid encoding (a
secret some other tool created) is skipped by `list`, never misread as another path.
"""

from __future__ import annotations

from dataclasses import dataclass

from leakvault.vault.errors import InvalidPathError


@dataclass(frozen=True)
class NameCodec:
    service: str
    plain: frozenset[str]  # characters kept as they are
    escapes: dict[str, str]  # character -> the one character that follows '-'
    max_length: int
    fold_case: bool = False  # service names are case-insensitive: spell capitals as '-' + lower

    def encode(self, path: str) -> str:
        out: list[str] = []
        for char in path:
            if char in self.plain:
                out.append(char)
            elif char in self.escapes:
                out.append("-" + self.escapes[char])
            elif self.fold_case and char.isascii() and char.isupper():
                out.append("-" + char.lower())
            else:
                raise InvalidPathError(f"{path!r} cannot be stored in {self.service}: character {char!r}")
        name = "".join(out)
        if len(name) > self.max_length:
            raise InvalidPathError(
                f"{path!r} is too long for {self.service}: its encoded name has {len(name)} characters, "
                f"the limit is {self.max_length}"
            )
        return name

    def decode(self, name: str) -> str | None:
        """The path `name` encodes, or None if it is not a leakvault encoding."""
        reverse = {code: char for char, code in self.escapes.items()}
        text = name.lower() if self.fold_case else name
        out: list[str] = []
        i = 0
        while i < len(text):
            char = text[i]
            if char != "-":
                if char not in self.plain:
                    return None
                out.append(char)
                i += 1
                continue
            if i + 1 >= len(text):
                return None
            code = text[i + 1]
            if code in reverse:
                out.append(reverse[code])
            elif self.fold_case and code.isascii() and code.isalpha():
                out.append(code.upper())
            else:
                return None
            i += 2
        return "".join(out)


_DIGITS = frozenset("0123456789")
_LOWER = frozenset("abcdefghijklmnopqrstuvwxyz")
_UPPER = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")

GCP_NAMES = NameCodec(
    service="GCP Secret Manager",
    plain=_DIGITS | _LOWER | _UPPER | {"_"},
    escapes={"/": "-", ".": "_", "-": "0"},
    max_length=255,
)

AZURE_NAMES = NameCodec(
    service="Azure Key Vault",
    plain=_DIGITS | _LOWER,
    escapes={"/": "-", "-": "0", "_": "1", ".": "2"},
    max_length=127,
    fold_case=True,
)
