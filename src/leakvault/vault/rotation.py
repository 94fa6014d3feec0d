"""Verified rotation with rollback, after AWS Secrets Manager's stages (DESIGN.md §4).

One rotation of a path:

1. **generate** a new value (random password, random token, or a command's stdout);
2. **stage** it as the path's *pending* value (durable, invisible to readers);
3. **apply** it with the optional apply hook (push it to the database / service that uses it);
4. **verify** it with the optional verify hook (log in with it, call the API);
5. **promote** pending to current (check-and-set against the version we started from), stamping
   ``rotated_at``; the previous version stays in history.

If apply or verify fails, the pending value is discarded, the apply hook runs again with the
previous value (rollback), and the current version is untouched. Every step is audited. If the
process dies between apply and promote, the pending value survives: ``rotate --resume`` finishes
with that same value and ``rotate --discard-pending`` abandons it. Commands receive values in their
environment (``LEAKVAULT_SECRET``, ``LEAKVAULT_PREVIOUS_SECRET``), never in argv.
"""

from __future__ import annotations

import math
import os
import re
import string
import subprocess
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from leakvault.errors import ConfigError
from leakvault.vault import _crypto
from leakvault.vault.config import check_user_file, read_text, without_credentials
from leakvault.vault.errors import CasConflictError, RotationError, SecretNotFoundError, scrub
from leakvault.vault.rbac import glob_matches

if TYPE_CHECKING:
    from leakvault.vault.config import VaultSettings
    from leakvault.vault.secret_vault import SecretVault

Generator = Callable[[], bytes]
Verifier = Callable[[bytes], bool]
Applier = Callable[[bytes], None]

SECRET_ENV = "LEAKVAULT_SECRET"  # noqa: S105 - a variable name, not a secret
PREVIOUS_ENV = "LEAKVAULT_PREVIOUS_SECRET"
PATH_ENV = "LEAKVAULT_SECRET_PATH"
STEP_ENV = "LEAKVAULT_ROTATION_STEP"
DEFAULT_TIMEOUT = 120.0

# -- generators ------------------------------------------------------------------------------------

# Symbols that survive shells, URLs' userinfo after percent-encoding, and most config formats.
DEFAULT_SYMBOLS = "!#%+,-.:=@^_~"
_CLASSES = {
    "lower": string.ascii_lowercase,
    "upper": string.ascii_uppercase,
    "digits": string.digits,
    "symbols": DEFAULT_SYMBOLS,
}
_BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase


@dataclass(frozen=True, slots=True)
class PasswordPolicy:
    """A random password: `length` characters drawn from `classes`, at least one of each."""

    length: int = 32
    classes: tuple[str, ...] = ("lower", "upper", "digits", "symbols")

    def __post_init__(self) -> None:
        unknown = set(self.classes) - set(_CLASSES)
        if unknown or not self.classes:
            raise ConfigError(f"password classes must be among {sorted(_CLASSES)}, got {list(self.classes)}")
        if self.length < max(8, len(self.classes)):
            raise ConfigError("a generated password needs at least 8 characters")


def generate_password(policy: PasswordPolicy) -> str:
    """A password meeting `policy`, uniformly random over all such passwords' character choices."""
    alphabet = "".join(_CLASSES[c] for c in policy.classes)
    while True:
        chars = [alphabet[_crypto.random_below(len(alphabet))] for _ in range(policy.length)]
        # Rejection sampling keeps the distribution uniform over compliant passwords.
        if all(any(ch in _CLASSES[c] for ch in chars) for c in policy.classes):
            return "".join(chars)


def _base62(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    out = []
    while number:
        number, rem = divmod(number, 62)
        out.append(_BASE62[rem])
    # Fixed width (ceil(bits / log2 62)), so every token from one spec has the same length.
    width = math.ceil(len(data) * 8 / math.log2(62))
    return "".join(reversed(out)).rjust(width, "0")


def generate_token(nbytes: int = 32, encoding: str = "hex") -> str:
    """`nbytes` random bytes encoded as hex, base64, base64url or base62."""
    import base64

    data = _crypto.random_bytes(nbytes)
    if encoding == "hex":
        return data.hex()
    if encoding == "base64":
        return base64.b64encode(data).decode()
    if encoding == "base64url":
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
    if encoding == "base62":
        return _base62(data)
    raise ConfigError(f"token encoding must be hex, base64, base64url or base62, not {encoding!r}")


def run_hook(
    command: str,
    *,
    step: str,
    path: str,
    value: bytes | None,
    previous: bytes | None,
    timeout: float = DEFAULT_TIMEOUT,
    capture: bool = False,
) -> subprocess.CompletedProcess[bytes]:
    """Run a shell hook with the values in its environment; its stdout goes to our stderr."""
    extra = {PATH_ENV: path, STEP_ENV: step}
    if value is not None:
        extra[SECRET_ENV] = value.decode("utf-8", "surrogateescape")
    if previous is not None:
        extra[PREVIOUS_ENV] = previous.decode("utf-8", "surrogateescape")
    try:
        return subprocess.run(
            ["/bin/sh", "-c", command],
            env={**without_credentials(os.environ), **extra},  # never the vault's own keys
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE if capture else 2,  # keep our stdout for results
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise RotationError(f"{step} command for {path!r} timed out after {timeout:g}s") from None
    except OSError as exc:
        raise RotationError(f"{step} command for {path!r} could not start: {exc.strerror or exc}") from None


def command_generator(command: str, *, path: str, timeout: float = DEFAULT_TIMEOUT) -> Generator:
    """A generator whose value is `command`'s stdout (one trailing newline removed)."""

    def generate() -> bytes:
        result = run_hook(command, step="generate", path=path, value=None, previous=None, timeout=timeout, capture=True)
        if result.returncode != 0:
            raise RotationError(f"generate command for {path!r} exited with status {result.returncode}")
        out = result.stdout[:-1] if result.stdout.endswith(b"\n") else result.stdout
        if not out:
            raise RotationError(f"generate command for {path!r} printed nothing")
        return out

    return generate


def parse_generator(spec: str, *, path: str = "", timeout: float = DEFAULT_TIMEOUT) -> Generator:
    """Build a generator from a spec: ``password[:LENGTH[:CLASS,CLASS]]``, ``token[:BYTES[:ENCODING]]``,
    or ``cmd:SHELL COMMAND``."""
    kind, _, rest = spec.partition(":")
    if kind == "cmd":
        if not rest.strip():
            raise ConfigError("generator 'cmd:' needs a command")
        return command_generator(rest, path=path, timeout=timeout)
    parts = rest.split(":") if rest else []
    try:
        if kind == "password":
            length = int(parts[0]) if parts and parts[0] else 32
            classes = tuple(parts[1].split(",")) if len(parts) > 1 else PasswordPolicy().classes
            policy = PasswordPolicy(length=length, classes=classes)
            return lambda: generate_password(policy).encode()
        if kind == "token":
            nbytes = int(parts[0]) if parts and parts[0] else 32
            encoding = parts[1] if len(parts) > 1 else "hex"
            if not 16 <= nbytes <= 4096:
                raise ConfigError("a token needs between 16 and 4096 bytes")
            generate_token(16, encoding)  # validate the encoding now, not mid-rotation
            return lambda: generate_token(nbytes, encoding).encode()
    except ValueError:
        raise ConfigError(f"invalid generator spec {spec!r}") from None
    raise ConfigError(f"unknown generator {kind!r} (use password, token or cmd)")


# -- one rotation ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RotationResult:
    path: str
    previous_version: int  # 0: the path did not exist
    new_version: int | None  # None: nothing was promoted
    rolled_back: bool = False
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.new_version is not None and self.error is None


class RotationFailedError(RotationError):
    """Apply or verify failed; the pending value was discarded and the current version kept."""

    def __init__(self, result: RotationResult) -> None:
        self.result = result
        super().__init__(
            f"rotation of {result.path!r} failed: {result.error}; current version "
            f"{result.previous_version} unchanged" + (", previous value re-applied" if result.rolled_back else "")
        )


def run_rotation(
    vault: SecretVault,
    path: str,
    generator: Generator,
    verify: Verifier | None,
    apply: Applier | None,
    rollback_apply: Applier | None,
    resume: bool,
    discard: bool,
) -> RotationResult:
    """The steps of one rotation of `path`, each recorded in the audit trail; `SecretVault.rotate`
    authorises and audits the whole. RotationFailedError when it rolled back."""
    backend = vault.backend
    try:
        meta = backend.metadata(path)
        start_version = meta.current_version
        has_pending = meta.has_pending
    except SecretNotFoundError:
        start_version, has_pending = 0, backend.read_pending(path) is not None
    previous: bytes | None = None
    if start_version:
        try:
            previous = backend.read(path).value
        except SecretNotFoundError:  # current version deleted: nothing to roll back to
            previous = None

    def step(name: str, outcome: str = "ok", version: int | None = None) -> None:
        vault._record(f"rotate.{name}", path, version, outcome)

    new_value: bytes
    pending = backend.read_pending(path) if has_pending else None
    if pending is not None and discard:
        backend.discard_pending(path)
        step("discard_pending")
        pending = None
    if pending is not None:
        if not resume:
            raise RotationError(
                f"{path!r} has a pending value from an interrupted rotation; it may already be applied. "
                "Finish it with 'rotate --resume' or drop it with 'rotate --discard-pending'"
            )
        new_value = pending.value
        step("resume")
    else:
        if resume:
            raise RotationError(f"{path!r} has no pending value to resume")
        try:
            new_value = generator()
        except RotationError:
            step("generate", "RotationError")
            raise
        if not new_value:
            raise RotationError(f"the generator returned an empty value for {path!r}")
        backend.stage_pending(path, new_value)
        step("stage")

    def failed(what: str, exc: Exception) -> str:
        # A hook's exception may quote the value it was given (a driver error, a user's callable).
        return scrub(f"{what} ({exc})", [new_value] + ([previous] if previous is not None else []))

    def fail(stage: str, reason: str) -> RotationResult:
        backend.discard_pending(path)
        step(stage, "failed")
        rolled_back = False
        if rollback_apply is not None and previous is not None:
            try:
                rollback_apply(previous)
                rolled_back = True
                step("rollback")
            except Exception as exc:  # the original failure is the one to report
                step("rollback", type(exc).__name__)
                reason += "; " + failed("re-applying the previous value also failed", exc)
        raise RotationFailedError(RotationResult(path, start_version, None, rolled_back, reason))

    if apply is not None:
        try:
            apply(new_value)
        except Exception as exc:
            return fail("apply", failed("apply step failed", exc))
        step("apply")
    if verify is not None:
        try:
            verified = verify(new_value)
        except Exception as exc:
            return fail("verify", failed("verify step failed", exc))
        if not verified:
            return fail("verify", "verification rejected the new value")
        step("verify")
    try:
        info = backend.promote_pending(path, cas=start_version)
    except CasConflictError as exc:
        # The new value may be live already; keep it pending for a human to resolve.
        step("promote", "CasConflictError")
        raise RotationError(
            f"{path!r} was written by someone else during the rotation ({exc.actual} != {exc.expected}); "
            "the new value stays pending: 'rotate --resume' promotes it, 'rotate --discard-pending' drops it"
        ) from None
    backend.update_metadata(path, custom={"rotated_at": vault.clock().isoformat()})
    step("promote", version=info.version)
    return RotationResult(path, start_version, info.version)


def command_verifier(command: str, *, path: str, timeout: float = DEFAULT_TIMEOUT) -> Verifier:
    def verify(value: bytes) -> bool:
        result = run_hook(command, step="verify", path=path, value=value, previous=None, timeout=timeout)
        return result.returncode == 0

    return verify


def command_applier(
    command: str, *, path: str, previous: Callable[[], bytes | None], timeout: float = DEFAULT_TIMEOUT, step: str
) -> Applier:
    def apply(value: bytes) -> None:
        result = run_hook(command, step=step, path=path, value=value, previous=previous(), timeout=timeout)
        if result.returncode != 0:
            raise RotationError(f"{step} command exited with status {result.returncode}")

    return apply


# -- policies and --due ----------------------------------------------------------------------------

_DURATION = re.compile(r"(\d+)([smhdw])")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_MAX_DURATION = 100 * 366 * 86400  # past this, "due" dates overflow datetime


def parse_duration(text: str) -> timedelta:
    """``30d``, ``12h``, ``2w``, ``1d12h``, ``90m`` -> timedelta."""
    cleaned = text.replace(" ", "").lower()
    if not cleaned or _DURATION.sub("", cleaned):
        raise ConfigError(f"invalid duration {text!r} (use e.g. 30d, 12h, 2w, 1d12h)")
    seconds = sum(int(n) * _UNIT[u] for n, u in _DURATION.findall(cleaned))
    if not 0 < seconds <= _MAX_DURATION:
        raise ConfigError(f"duration {text!r} must be positive and at most 100 years")
    return timedelta(seconds=seconds)


@dataclass(frozen=True, slots=True)
class RotationPolicy:
    """Rotate secrets matching `paths` every `every`, with a generator and optional hooks."""

    paths: tuple[str, ...]
    every: timedelta
    generator: str = "password:32"
    verify: str | None = None
    apply: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    source: str = field(default="config", compare=False)

    def matches(self, path: str) -> bool:
        return any(glob_matches(glob, path) for glob in self.paths)


def _optional_text(data: Mapping[str, Any], key: str, where: str) -> str | None:
    value = data.get(key)
    if value is not None and not (isinstance(value, str) and value.strip()):
        raise ConfigError(f"{where}: '{key}' must be a shell command (a non-empty string)")
    return value


def _policy_from(data: Any, where: str) -> RotationPolicy:
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where}: a policy must be a table")
    allowed = {"path", "paths", "rotate_every", "generator", "verify", "apply", "timeout"}
    extra = set(data) - allowed
    if extra:
        raise ConfigError(f"{where}: unknown key(s) {sorted(extra)}")
    paths = data.get("paths", data.get("path"))
    if isinstance(paths, str):
        paths = [paths]
    if not paths or not isinstance(paths, list) or not all(isinstance(p, str) and p for p in paths):
        raise ConfigError(f"{where}: 'path' (a glob) or 'paths' (a list of globs) is required")
    if "rotate_every" not in data:
        raise ConfigError(f"{where}: 'rotate_every' is required (e.g. \"30d\")")
    timeout = data.get("timeout", DEFAULT_TIMEOUT)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 1 <= timeout <= 86_400:
        raise ConfigError(f"{where}: 'timeout' must be a number of seconds between 1 and 86400")
    generator = data.get("generator", "password:32")
    if not isinstance(generator, str):
        raise ConfigError(f"{where}: 'generator' must be a string such as \"password:32\"")
    parse_generator(generator)  # fail at load time, not in the middle of `rotate --due`
    return RotationPolicy(
        paths=tuple(paths),
        every=parse_duration(str(data["rotate_every"])),
        generator=generator,
        verify=_optional_text(data, "verify", where),
        apply=_optional_text(data, "apply", where),
        timeout=float(timeout),
        source=where,
    )


def _policy_list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise ConfigError(f"{where} must be an array of tables ([[...policy]])")
    return value


def load_policies(settings: VaultSettings) -> list[RotationPolicy]:
    """Policies from ``[[vault.rotation.policy]]`` in the user's config file and from the TOML file
    named by ``MAHAVISHNU_SECRETS__ROTATION__POLICY_FILE`` (``[[policy]]`` tables); first match wins.

    Policies name commands that run with secrets, so they are trust settings: never read from a
    repository, and a policy file must be the user's own and not writable by anyone else.
    """
    section = settings.raw.get("rotation", {})
    if not isinstance(section, Mapping):
        raise ConfigError("vault setting 'rotation' must be a table")
    policies: list[RotationPolicy] = []
    file = section.get("policy_file")
    if file:
        path = Path(os.path.expanduser(str(file)))
        check_user_file(path, "rotation policy file")
        try:
            data = tomllib.loads(read_text(path, "rotation policy file"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"rotation policy file {path}: invalid TOML: {exc}") from None
        for i, entry in enumerate(_policy_list(data.get("policy", []), f"{path}: 'policy'")):
            policies.append(_policy_from(entry, f"{path} policy #{i + 1}"))
    for i, entry in enumerate(_policy_list(section.get("policy", []), "[vault.rotation] policy")):
        policies.append(_policy_from(entry, f"rotation policy #{i + 1}"))
    return policies


@dataclass(frozen=True, slots=True)
class DueEntry:
    path: str
    policy: RotationPolicy
    last_rotated: datetime
    due_at: datetime

    def is_due(self, now: datetime) -> bool:
        return now >= self.due_at


def due_entries(vault: SecretVault, policies: Sequence[RotationPolicy], *, now: datetime) -> list[DueEntry]:
    """Every listed secret that a policy covers, with when it was last rotated and when it is due."""
    entries: list[DueEntry] = []
    for path in vault.list():
        policy = next((p for p in policies if p.matches(path)), None)
        if policy is None:
            continue
        meta = vault.metadata(path)
        current = meta.version(meta.current_version)
        last = meta.rotated or (current.created if current is not None else meta.created)
        entries.append(DueEntry(path, policy, last, last + policy.every))
    return entries


def hooks_for(
    vault: SecretVault,
    path: str,
    *,
    generator_spec: str | None,
    generate_cmd: str | None,
    verify_cmd: str | None,
    apply_cmd: str | None,
    timeout: float,
) -> tuple[Generator, Verifier | None, Applier | None, Applier | None]:
    """Turn CLI/policy strings into the callables `rotate` takes."""
    if generate_cmd:
        generator = command_generator(generate_cmd, path=path, timeout=timeout)
    else:
        generator = parse_generator(generator_spec or "password:32", path=path, timeout=timeout)
    verify = command_verifier(verify_cmd, path=path, timeout=timeout) if verify_cmd else None
    apply = rollback = None
    if apply_cmd:
        # The apply hook sees the value it replaces as LEAKVAULT_PREVIOUS_SECRET (e.g. ALTER USER
        # needs the old password), read lazily and only by the hook itself.
        state: dict[str, bytes | None] = {}

        def current() -> bytes | None:
            if "v" not in state:
                try:
                    state["v"] = vault.backend.read(path).value
                except SecretNotFoundError:
                    state["v"] = None
            return state["v"]

        new_holder: dict[str, bytes] = {}

        def apply_new(value: bytes) -> None:
            new_holder["v"] = value
            command_applier(apply_cmd, path=path, previous=current, timeout=timeout, step="apply")(value)

        apply = apply_new
        rollback = command_applier(
            apply_cmd, path=path, previous=lambda: new_holder.get("v"), timeout=timeout, step="rollback"
        )
    return generator, verify, apply, rollback
