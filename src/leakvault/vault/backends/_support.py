"""Pieces every remote backend shares: typed settings, lazy SDK import, bounded retries, value codec."""

from __future__ import annotations

import base64
import importlib
import ipaddress
import os
import random
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar
from urllib.parse import urlsplit

from leakvault.errors import ConfigError
from leakvault.vault.backends.errors import BackendNotInstalledError, BackendThrottledError
from leakvault.vault.config import ENV_PREFIX
from leakvault.vault.errors import BackendError

T = TypeVar("T")

# The longest single back-off pause; with the default 4 retries and 0.25 s base the worst total
# wait is about 4 s, which keeps a throttled CLI call bounded but gives the service room to recover.
MAX_DELAY_SECONDS = 8.0
DEFAULT_RETRIES = 4
DEFAULT_BASE_DELAY = 0.25


def import_sdk(module: str, *, backend: str, package: str, extra: str) -> ModuleType:
    """Import an optional SDK module, or explain which extra to install."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name and (module == exc.name or module.startswith(exc.name + ".")):
            raise BackendNotInstalledError(backend, package, extra) from None
        raise


class Section:
    """Typed access to one settings section (``MAHAVISHNU_SECRETS__<NAME>__<KEY>``)."""

    def __init__(self, name: str, raw: Mapping[str, Any]) -> None:
        self.name = name
        self._raw = raw

    def variable(self, key: str) -> str:
        return f"{ENV_PREFIX}{self.name.upper()}__{key.upper()}"

    def text(self, key: str, default: str | None = None) -> str | None:
        value = self._raw.get(key)
        if value is None or value == "":
            return default
        if isinstance(value, Mapping):
            raise ConfigError(f"{self.variable(key)} must be a value, not a section")
        return str(value)

    def required(self, key: str, what: str) -> str:
        value = self.text(key)
        if value is None:
            raise ConfigError(f"{self.variable(key)} is not set: the {self.name} backend needs {what}")
        return value

    def flag(self, key: str, default: bool) -> bool:
        raw = self.text(key)
        if raw is None:
            return default
        lowered = raw.strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"{self.variable(key)} must be true or false, got {raw!r}")

    def number(self, key: str, default: float, *, minimum: float = 0) -> float:
        raw = self.text(key)
        if raw is None:
            return default
        try:
            value = float(raw)
        except ValueError:
            raise ConfigError(f"{self.variable(key)} must be a number, got {raw!r}") from None
        if value < minimum:
            raise ConfigError(f"{self.variable(key)} must be at least {minimum:g}, got {raw!r}")
        return value

    def file(self, key: str, *, must_exist: bool = True) -> Path | None:
        raw = self.text(key)
        if raw is None:
            return None
        path = Path(os.path.expanduser(raw))
        if must_exist and not path.is_file():
            raise ConfigError(f"{self.variable(key)}: no such file {path}")
        return path

    def prefix(self) -> str:
        """The optional name prefix under which this backend keeps leakvault's secrets."""
        raw = self.text("prefix", "") or ""
        if raw and not raw.endswith("/"):
            raw += "/"
        return raw


def is_loopback_host(host: str) -> bool:
    """True for ``localhost`` and any loopback address (127.0.0.0/8, ::1)."""
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_transport(section: Section, key: str, url: str) -> None:
    """ConfigError for a plain ``http://`` address that leaves this machine, unless the user opted
    in with ``<SECTION>__ALLOW_INSECURE_HTTP=1`` (credentials and secrets would cross the network
    unencrypted). https, and http to a loopback address (a local dev server), are accepted."""
    parts = urlsplit(url.strip())
    if parts.scheme.lower() != "http":
        return
    host = parts.hostname or ""
    if is_loopback_host(host) or section.flag("allow_insecure_http", False):
        return
    shown = f"http://{host}" + (f":{parts.port}" if parts.port else "")
    raise ConfigError(
        f"{section.variable(key)} is plain {shown}: the token and secrets would cross the network unencrypted; "
        f"use https, or set {section.variable('allow_insecure_http')}=1 to accept that"
    )


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Bounded exponential back-off with full jitter for throttled or briefly unavailable services."""

    retries: int = DEFAULT_RETRIES
    base_delay: float = DEFAULT_BASE_DELAY

    @classmethod
    def from_section(cls, section: Section) -> RetryPolicy:
        return cls(
            retries=int(section.number("max_retries", DEFAULT_RETRIES)),
            base_delay=section.number("retry_base_delay", DEFAULT_BASE_DELAY),
        )

    def delay(self, attempt: int, rng: Callable[[], float] = random.random) -> float:
        # Full jitter (a random pause up to the exponential bound) spreads out clients that were
        # throttled together, so they do not all come back at the same instant.
        bound: float = min(MAX_DELAY_SECONDS, self.base_delay * 2.0**attempt)
        return bound * rng()


def with_retries(
    operation: Callable[[], T],
    *,
    policy: RetryPolicy,
    is_retryable: Callable[[BaseException], bool],
    service: str,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run `operation`, retrying throttled attempts up to ``policy.retries`` times.

    A non-retryable error propagates unchanged; when retries run out the last throttling error
    becomes a `BackendThrottledError`.
    """
    started = time.monotonic()
    attempt = 0
    while True:
        try:
            return operation()
        except Exception as exc:
            if not is_retryable(exc):
                raise
            if attempt >= policy.retries:
                waited = time.monotonic() - started
                raise BackendThrottledError(
                    f"{service} throttled or refused the request {attempt + 1} times over {waited:.1f} s "
                    f"({describe(exc)}); try again later or raise the max_retries setting"
                ) from None
            sleep(policy.delay(attempt))
            attempt += 1


def describe(exc: BaseException, limit: int = 200) -> str:
    """A one-line, bounded description of an SDK exception (they are often multi-line)."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


# -- values ----------------------------------------------------------------------------------------

# Text-only services (KV v2 data, Azure values) hold a binary value base64-encoded and say so in a
# marker, so that a UTF-8 value stays readable by other tools exactly as written.


def is_text(value: bytes) -> bool:
    try:
        value.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def b64encode(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


def b64decode(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def parse_time(text: str) -> datetime:
    """An RFC 3339 timestamp as an aware datetime; nanosecond fractions are cut to microseconds."""
    match = _RFC3339.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"not an RFC 3339 timestamp: {text!r}")
    head, fraction, zone = match.group(1), match.group(2) or "", match.group(3)
    zone = "+00:00" if zone in ("Z", "z") else zone
    micro = f".{fraction[:6]:0<6}" if fraction else ""
    return datetime.fromisoformat(f"{head}{micro}{zone}")


_RFC3339 = re.compile(r"(\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d:\d\d)(?:\.(\d+))?([Zz]|[+-]\d\d:\d\d)")


def _crc32c_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_CRC32C_TABLE = _crc32c_table()


def crc32c(data: bytes) -> int:
    """CRC-32C (Castagnoli), the checksum GCP Secret Manager uses for payloads.

    Pure Python so the gcp extra needs no compiled package; secrets are at most 64 KiB, so this
    costs a few milliseconds at worst.
    """
    crc = 0xFFFFFFFF
    table = _CRC32C_TABLE
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


WRITE_ATTEMPTS = 5  # unconditional writes retry this often when other writers keep taking their number


def write_with_retries(path: str, attempt: Callable[[], T | None]) -> T:
    """Run one write `attempt` until it returns a result (None means "a rival took the number")."""
    for _ in range(WRITE_ATTEMPTS):
        result = attempt()
        if result is not None:
            return result
    raise BackendError(
        f"gave up writing {path!r} after {WRITE_ATTEMPTS} attempts: other writers kept taking the next version"
    )
