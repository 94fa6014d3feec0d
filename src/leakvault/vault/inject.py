"""Deliver secrets to programs: environment, private file mounts, Jinja2 templates, live updates.

- Environment: the child gets a *copy* of our environment plus the secrets; our own environment
  and the child's argv never hold a value. The vault's key material and backend credentials
  (``MAHAVISHNU_SECRETS__*`` passphrase, master key, tokens) are removed from the copy.
- File mounts: each secret is written to a 0600 file in a private 0700 directory, on a RAM-backed
  filesystem where one exists (/dev/shm, else $XDG_RUNTIME_DIR), removed when the child ends for
  any reason. If leakvault itself is SIGKILLed the directory stays; the next run sweeps directories
  whose owning process is gone.
- Templates: a Jinja2 *sandboxed* environment with StrictUndefined, where ``{{ secret("path") }}``
  (and ``secret("path", version=3)``) is the only way in; a missing secret is an error.
- Live update (``--watch``): poll the current versions, re-fetch what changed, rewrite files and
  templates atomically, and signal the child (SIGHUP by default), or restart it when environment
  values changed, since a running process cannot see a new environment.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from leakvault.errors import ConfigError, UsageError
from leakvault.vault._files import pid_alive, replace_file
from leakvault.vault.config import read_text, without_credentials
from leakvault.vault.errors import InjectionError, SecretNotFoundError, VaultError
from leakvault.vault.model import validate_path

if TYPE_CHECKING:
    from leakvault.vault.secret_vault import SecretVault

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_MOUNT_PREFIX = "leakvault-run."


@dataclass(frozen=True, slots=True, order=True)
class SecretRef:
    """A vault path, optionally pinned to one version (``path@3``)."""

    path: str
    version: int | None = None

    def __str__(self) -> str:
        return self.path if self.version is None else f"{self.path}@{self.version}"


def parse_ref(text: str) -> SecretRef:
    path, sep, version = text.strip().rpartition("@")
    if not sep:
        return SecretRef(validate_path(text.strip()))
    if not version.isdigit() or int(version) < 1:
        raise UsageError(f"invalid version in {text!r} (use PATH@N)")
    return SecretRef(validate_path(path), int(version))


def _check_name(name: str, where: str) -> str:
    if not _ENV_NAME.fullmatch(name):
        raise UsageError(f"{where}: {name!r} is not a valid environment variable name")
    return name


def parse_assignments(items: Sequence[str], option: str) -> dict[str, SecretRef]:
    """``NAME=PATH`` pairs from the command line."""
    out: dict[str, SecretRef] = {}
    for item in items:
        name, sep, ref = item.partition("=")
        if not sep or not ref:
            raise UsageError(f"{option} {item!r}: expected NAME=PATH")
        out[_check_name(name, option)] = parse_ref(ref)
    return out


def load_map(file: Path) -> tuple[dict[str, SecretRef], dict[str, SecretRef]]:
    """A mapping file: top-level ``NAME = "vault/path"`` (or an ``[env]`` table) for environment
    variables, and an optional ``[files]`` table for file mounts."""
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"mapping file {file}: {exc}") from None
    env: dict[str, SecretRef] = {}
    files: dict[str, SecretRef] = {}
    for key, value in data.items():
        if key in ("env", "files") and isinstance(value, dict):
            target = env if key == "env" else files
            for name, ref in value.items():
                if not isinstance(ref, str):
                    raise ConfigError(f"mapping file {file}: [{key}] {name} must be a string path")
                target[_check_name(name, str(file))] = parse_ref(ref)
        elif isinstance(value, str):
            env[_check_name(key, str(file))] = parse_ref(value)
        else:
            raise ConfigError(f"mapping file {file}: {key} must be a string path")
    return env, files


def child_environment(base: Mapping[str, str], values: Mapping[str, str]) -> dict[str, str]:
    """`base` minus the vault's key material and backend credentials, plus `values`."""
    return {**without_credentials(base), **values}


def as_env_value(ref: SecretRef, value: bytes) -> str:
    if b"\x00" in value:
        raise InjectionError(f"secret {ref} contains a NUL byte and cannot be an environment variable; use --file")
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        raise InjectionError(f"secret {ref} is not UTF-8 text; use --file to mount it as bytes") from None


# -- private files ---------------------------------------------------------------------------------


def write_private(path: Path, data: bytes) -> None:
    """Atomically replace `path` with a 0600 file holding `data`; InjectionError if it cannot be
    written (`path` is then as it was)."""
    try:
        replace_file(path, data, mode=0o600)
    except OSError as exc:
        raise InjectionError(f"cannot write {path}: {exc.strerror or exc}") from None


def _mount_base() -> Path:
    # A 0700 mkdtemp directory with O_EXCL files inside is safe in a shared tmpfs.
    for candidate in ("/dev/shm", os.environ.get("XDG_RUNTIME_DIR", "")):  # noqa: S108 - see above
        if candidate and os.path.isdir(candidate) and os.access(candidate, os.W_OK | os.X_OK):
            return Path(candidate)
    return Path(tempfile.gettempdir())


def sweep_stale_mounts(base: Path) -> None:
    """Remove mount directories left by leakvault processes that were killed outright."""
    with contextlib.suppress(OSError):
        for entry in base.iterdir():
            if not entry.name.startswith(_MOUNT_PREFIX):
                continue
            parts = entry.name.split(".")
            try:
                pid = int(parts[1])
                owner = entry.lstat().st_uid
            except (IndexError, ValueError, OSError):
                continue
            if owner == os.getuid() and not pid_alive(pid):
                shutil.rmtree(entry, ignore_errors=True)


class MountDir:
    """A private directory of 0600 secret files, removed by `close`."""

    def __init__(self, base: Path | None = None) -> None:
        base = base or _mount_base()
        sweep_stale_mounts(base)
        self.path = Path(tempfile.mkdtemp(prefix=f"{_MOUNT_PREFIX}{os.getpid()}.", dir=base))
        os.chmod(self.path, 0o700)

    def file_for(self, name: str) -> Path:
        return self.path / name

    def write(self, name: str, data: bytes) -> Path:
        target = self.file_for(name)
        write_private(target, data)
        return target

    def close(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


# -- templates -------------------------------------------------------------------------------------


@dataclass
class RenderResult:
    text: str = field(repr=False)
    refs: set[SecretRef] = field(default_factory=set)
    # The version of each unpinned path the rendering actually read: what --watch compares against,
    # so a change made while rendering is never mistaken for the version already rendered.
    versions: dict[str, int] = field(default_factory=dict)


def _template_line(exc: BaseException) -> str:
    """`` (line N)`` of the template where `exc` was raised, from Jinja's rewritten traceback."""
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    line = line if line is not None else getattr(exc, "lineno", None)
    return f" (line {line})" if line else ""


def render_template(vault: SecretVault, source: str, *, name: str = "<template>") -> RenderResult:
    """Render `source` in a sandbox where ``secret(path, version=None)`` reads the vault.

    Error messages never quote a value: once the template has read a secret, the message of an
    error raised while rendering (Jinja's, or a vault error for a path the template computed) is
    withheld, since it may quote a value derived from the secret (``|upper``, a slice, ``|int``),
    which no scrubbing of the exact values could catch. Only the error type and line are shown.
    """
    from jinja2 import StrictUndefined, TemplateError
    from jinja2.sandbox import SandboxedEnvironment

    refs: set[SecretRef] = set()
    fetched: list[bytes] = []
    versions: dict[str, int] = {}

    def is_literal(path: str) -> bool:
        # A path written in the template itself is safe to name; a computed one may come from a value.
        return not fetched or f'"{path}"' in source or f"'{path}'" in source

    def secret(path: str, version: int | None = None) -> str:
        text = str(path)
        try:
            ref = SecretRef(validate_path(text), None if version is None else int(version))
        except (VaultError, ValueError, TypeError):
            if is_literal(text):
                raise
            raise InjectionError(
                f"template {name}: secret() was given an invalid path the template computed "
                "(not shown: it may be derived from a secret)"
            ) from None
        refs.add(ref)
        try:
            value = vault.get(ref.path, ref.version)
        except SecretNotFoundError as exc:
            if is_literal(ref.path):
                raise InjectionError(f"template {name}: {exc}") from None
            raise InjectionError(
                f"template {name}: a secret path the template computed does not exist "
                "(not shown: it may be derived from a secret)"
            ) from None
        fetched.append(value.value)
        if ref.version is None:
            versions[ref.path] = value.version
        try:
            return value.value.decode("utf-8")
        except UnicodeDecodeError:
            raise InjectionError(
                f"template {name}: secret {ref} is not UTF-8 text, so it cannot be rendered; "
                "mount it as bytes with 'leakvault run --file NAME=PATH'"
            ) from None

    def withheld(exc: BaseException) -> InjectionError:
        return InjectionError(
            f"template {name}: {type(exc).__name__}{_template_line(exc)} while rendering (details withheld: "
            "the template had read a secret, and the message may quote a value derived from it)"
        )

    env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)
    env.globals = {"secret": secret}
    try:
        text = env.from_string(source).render()
    except InjectionError:
        raise  # ours, written above without values
    except VaultError as exc:
        if fetched:
            raise withheld(exc) from None
        raise
    except TemplateError as exc:
        # Jinja names the variable or key it could not find ({{ d[secret("a")|upper] }}).
        if fetched:
            raise withheld(exc) from None
        raise InjectionError(f"template {name}: {type(exc).__name__}: {exc.message or exc}") from None
    except Exception as exc:
        # Other errors (a bad include, int("<value>")) may quote the data they failed on.
        raise InjectionError(
            f"template {name}: {type(exc).__name__}{_template_line(exc)} while rendering "
            "(details withheld: they may contain a secret)"
        ) from None
    return RenderResult(text, refs, versions)


# -- fetching and watching -------------------------------------------------------------------------


def fetch(
    vault: SecretVault, refs: Iterable[SecretRef], versions: dict[str, int] | None = None
) -> dict[SecretRef, bytes]:
    """The values of `refs`; the version read for each unpinned path is recorded in `versions`."""
    out: dict[SecretRef, bytes] = {}
    for ref in sorted(set(refs)):
        value = vault.get(ref.path, ref.version)
        if versions is not None and ref.version is None:
            versions[ref.path] = value.version
        out[ref] = value.value
    return out


def watched_versions(vault: SecretVault, refs: set[SecretRef]) -> dict[str, int]:
    paths = sorted({r.path for r in refs if r.version is None})
    return vault.watch_versions(paths) if paths else {}


# -- running a child -------------------------------------------------------------------------------

_FORWARDED = ("SIGTERM", "SIGHUP", "SIGINT", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGWINCH", "SIGCONT")


def parse_signal(name: str) -> signal.Signals:
    key = name.upper()
    key = key if key.startswith("SIG") else f"SIG{key}"
    try:
        return signal.Signals[key]
    except KeyError:
        raise UsageError(f"unknown signal {name!r}") from None


def _terminal_delivers_sigint() -> bool:
    """True if Ctrl-C on our terminal already reaches the child (same foreground process group)."""
    try:
        return os.tcgetpgrp(sys.stdin.fileno()) == os.getpgrp()
    except (OSError, ValueError, AttributeError):
        return False


@dataclass
class RunPlan:
    env: dict[str, SecretRef] = field(default_factory=dict)
    files: dict[str, SecretRef] = field(default_factory=dict)
    templates: dict[str, Path] = field(default_factory=dict)  # NAME -> template file

    @property
    def empty(self) -> bool:
        return not (self.env or self.files or self.templates)


class Runner:
    """Run one command with secrets injected; optionally keep them current (``watch``)."""

    def __init__(
        self,
        vault: SecretVault,
        plan: RunPlan,
        command: Sequence[str],
        *,
        watch: bool = False,
        interval: float = 1.0,
        reload_signal: signal.Signals = signal.SIGHUP,
        restart: bool = True,
        grace: float = 10.0,
        log: Callable[[str], None] | None = None,
        on_started: Callable[[], None] | None = None,
    ) -> None:
        self.vault = vault
        self.plan = plan
        self.command = list(command)
        self.watch = watch
        self.interval = interval
        self.reload_signal = reload_signal
        self.restart = restart
        self.grace = grace
        self.log = log or (lambda message: print(f"leakvault: {message}", file=sys.stderr, flush=True))
        self.on_started = on_started
        self.child: subprocess.Popen[bytes] | None = None
        self.mounts: MountDir | None = None
        self._template_refs: dict[str, set[SecretRef]] = {}
        self._stop_before_start = 0
        # Versions of the values the child was given (read while fetching, not polled afterwards).
        self.delivered_versions: dict[str, int] = {}

    # environment and files for the current values
    def _materialise(self) -> dict[str, str]:
        values: dict[str, str] = {}
        read: dict[str, int] = {}
        env_values = fetch(self.vault, self.plan.env.values(), read)
        for name, ref in self.plan.env.items():
            values[name] = as_env_value(ref, env_values[ref])
        if self.plan.files or self.plan.templates:
            if self.mounts is None:
                self.mounts = MountDir()
            file_values = fetch(self.vault, self.plan.files.values(), read)
            for name, ref in self.plan.files.items():
                values[name] = str(self.mounts.write(name, file_values[ref]))
            for name, template in self.plan.templates.items():
                values[name] = str(self._render_into_mount(name, template, read))
        self.delivered_versions = read
        return values

    def _render_into_mount(self, name: str, template: Path, read: dict[str, int]) -> Path:
        if self.mounts is None:
            self.mounts = MountDir()
        source = read_text(template, "template", InjectionError)
        result = render_template(self.vault, source, name=str(template))
        read.update(result.versions)
        self._template_refs[name] = result.refs
        return self.mounts.write(name, result.text.encode("utf-8"))

    def _all_refs(self) -> set[SecretRef]:
        refs = set(self.plan.env.values()) | set(self.plan.files.values())
        for used in self._template_refs.values():
            refs |= used
        return refs

    def _start(self, values: Mapping[str, str]) -> subprocess.Popen[bytes]:
        try:
            child = subprocess.Popen(self.command, env=child_environment(os.environ, values))
        except FileNotFoundError:
            raise _ChildStartError(127, f"command not found: {self.command[0]}") from None
        except PermissionError:
            raise _ChildStartError(126, f"permission denied: {self.command[0]}") from None
        except OSError as exc:  # not an executable format, too many arguments, ...
            raise _ChildStartError(126, f"cannot run {self.command[0]}: {exc.strerror or exc}") from None
        if self.on_started is not None:
            self.on_started()
        return child

    def _forward(self, signum: int, _frame: Any) -> None:
        child = self.child
        if child is None:
            # Asked to stop before the command started: do not start it at all.
            if signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT):
                self._stop_before_start = signum
            return
        if child.poll() is not None:
            return
        if signum == signal.SIGINT and _terminal_delivers_sigint():
            return  # the terminal already sent it to the child; do not deliver it twice
        with contextlib.suppress(ProcessLookupError):
            child.send_signal(signum)

    def run(self) -> int:
        """Start the command and return its exit status (128 + N if killed by signal N)."""
        previous_handlers: dict[int, Any] = {}
        for name in _FORWARDED:
            sig = getattr(signal, name, None)
            if sig is not None:
                previous_handlers[sig] = signal.signal(sig, self._forward)
        try:
            values = self._materialise()
            if self._stop_before_start:
                return 128 + self._stop_before_start
            self.child = self._start(values)
            if not self.watch:
                self.vault.close()  # nothing more to read; do not hold the vault open
            code = self._supervise(values)
        except _ChildStartError as exc:
            self.log(str(exc))
            return exc.code
        finally:
            for sig, handler in previous_handlers.items():
                signal.signal(sig, handler)
            if self.mounts is not None:
                self.mounts.close()
        return code

    def _supervise(self, values: dict[str, str]) -> int:
        versions = dict(self.delivered_versions) if self.watch else {}
        while True:
            child = self.child
            if child is None:
                raise InjectionError("no child process to supervise")
            try:
                status = child.wait(timeout=self.interval if self.watch else None)
            except subprocess.TimeoutExpired:
                versions, values = self._check(versions, values)
                continue
            return status if status >= 0 else 128 - status

    def _check(self, versions: dict[str, int], values: dict[str, str]) -> tuple[dict[str, int], dict[str, str]]:
        try:
            now = watched_versions(self.vault, self._all_refs())
        except Exception as exc:  # a vault hiccup must not kill the supervised program
            self.log(f"watch: could not check versions ({type(exc).__name__}: {exc})")
            return versions, values
        if now == versions:
            return versions, values
        changed = sorted(p for p in now if now.get(p) != versions.get(p))
        try:
            new_values = self._materialise()
        except Exception as exc:
            self.log(f"watch: could not fetch the new values ({type(exc).__name__}: {exc}); keeping the old ones")
            return versions, values
        env_changed = any(new_values.get(n) != values.get(n) for n in self.plan.env)
        if self.child is None:
            return dict(self.delivered_versions), new_values
        if env_changed and self.restart:
            self.log(f"watch: {', '.join(changed)} changed; restarting the command")
            self._restart(new_values)
        else:
            self.log(f"watch: {', '.join(changed)} changed; sending {self.reload_signal.name}")
            with contextlib.suppress(ProcessLookupError):
                self.child.send_signal(self.reload_signal)
        return dict(self.delivered_versions), new_values

    def _restart(self, values: Mapping[str, str]) -> None:
        old = self.child
        if old is None:
            return
        with contextlib.suppress(ProcessLookupError):
            old.terminate()
        try:
            old.wait(timeout=self.grace)
        except subprocess.TimeoutExpired:
            old.kill()
            old.wait()
        self.child = self._start(values)


class _ChildStartError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


def watch_template(
    vault: SecretVault,
    template: Path,
    output: Path,
    *,
    interval: float = 1.0,
    stop: Callable[[], bool] = lambda: False,
    log: Callable[[str], None] | None = None,
) -> None:
    """Render `template` to `output` and re-render it whenever a secret it uses changes."""
    say = log or (lambda message: print(f"leakvault: {message}", file=sys.stderr, flush=True))
    result = render_template(vault, read_text(template, "template", InjectionError), name=str(template))
    write_private(output, result.text.encode("utf-8"))
    versions = result.versions  # what was rendered, read while rendering: no window for a missed change
    while not stop():
        time.sleep(interval)
        try:
            now = watched_versions(vault, result.refs)
            if now != versions:
                result = render_template(vault, read_text(template, "template", InjectionError), name=str(template))
                write_private(output, result.text.encode("utf-8"))
                say(f"watch: re-rendered {output}")
                versions = result.versions
        except Exception as exc:
            say(f"watch: {type(exc).__name__}: {exc}; keeping the last rendering")
