"""Role-based access control: roles grant capabilities over path globs, bindings give roles to identities.

Policy file format (TOML), stored in the vault at `POLICY_PATH` or given as a file::

    [roles.admin]
    capabilities = ["admin"]          # admin implies every other capability
    paths = ["**"]

    [roles.deploy]
    capabilities = ["read", "list"]
    paths = ["prod/app/*", "shared/**"]

    [bindings]                        # identity -> roles; "*" binds every identity
    alice = ["admin"]
    ci-bot = ["deploy"]

    [impersonation]                   # OS user -> identities it may claim with --as
    deployer = ["ci-bot"]

Globs: ``*`` matches within one path segment, ``**`` across segments, ``?`` one character.
Vault-wide operations (audit, rekey, policy changes) need the capability on ``**``.

Without any policy the vault is in single-user mode: every identity that can unlock it may do
everything. For the local backend that is also the honest truth: whoever holds the master key can
read the file directly, so RBAC there guards against mistakes and scopes shared service identities;
the security boundary is the key. For server backends the service's own ACLs are the boundary.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType
from typing import Any

from leakvault.errors import ConfigError

CAPABILITIES = frozenset({"read", "write", "delete", "rotate", "list", "admin"})
POLICY_PATH = ".leakvault/policy"
ANY_IDENTITY = "*"


@lru_cache(maxsize=512)
def _glob_regex(glob: str) -> re.Pattern[str]:
    out: list[str] = []
    i = 0
    while i < len(glob):
        if glob.startswith("**", i):
            out.append(".*")
            i += 2
        elif glob[i] == "*":
            out.append("[^/]*")
            i += 1
        elif glob[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(glob[i]))
            i += 1
    return re.compile("".join(out))


def glob_matches(glob: str, path: str) -> bool:
    """True if `path` matches `glob` (``*`` within a segment, ``**`` across segments)."""
    return _glob_regex(glob).fullmatch(path) is not None


@dataclass(frozen=True, slots=True)
class Role:
    name: str
    capabilities: frozenset[str]
    paths: tuple[str, ...]

    def grants(self, capability: str, path: str | None) -> bool:
        if capability not in self.capabilities and "admin" not in self.capabilities:
            return False
        if path is None:  # vault-wide: only a role over everything
            return "**" in self.paths
        return any(glob_matches(glob, path) for glob in self.paths)


@dataclass(frozen=True, slots=True)
class Policy:
    roles: Mapping[str, Role] = field(default_factory=lambda: MappingProxyType({}))
    bindings: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))
    impersonation: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))
    # False only for the implicit single-user policy used when none is configured.
    enforced: bool = True

    def roles_of(self, identity: str) -> list[Role]:
        names = [*self.bindings.get(identity, ()), *self.bindings.get(ANY_IDENTITY, ())]
        return [self.roles[n] for n in names if n in self.roles]

    def allows(self, identity: str, capability: str, path: str | None) -> bool:
        """True if `identity` holds `capability` on `path` (None: on the whole vault)."""
        if capability not in CAPABILITIES:
            raise ValueError(f"unknown capability {capability!r}")
        if not self.enforced:
            return True
        return any(role.grants(capability, path) for role in self.roles_of(identity))

    def may_act_as(self, real: str, claimed: str) -> bool:
        """True if OS user `real` may operate as `claimed` (itself, an allowed identity, or as an admin)."""
        if real == claimed or not self.enforced:
            return True
        allowed = self.impersonation.get(real, ())
        return claimed in allowed or ANY_IDENTITY in allowed or self.allows(real, "admin", None)

    def to_toml(self) -> str:
        """Serialise back to the TOML format above (round-trips through `parse_policy`)."""
        lines: list[str] = []
        for role in self.roles.values():
            lines.append(f"[roles.{_key(role.name)}]")
            lines.append(f"capabilities = {_array(sorted(role.capabilities))}")
            lines.append(f"paths = {_array(role.paths)}")
            lines.append("")
        lines.append("[bindings]")
        lines.extend(f"{_key(k)} = {_array(v)}" for k, v in self.bindings.items())
        if self.impersonation:
            lines.append("")
            lines.append("[impersonation]")
            lines.extend(f"{_key(k)} = {_array(v)}" for k, v in self.impersonation.items())
        return "\n".join(lines) + "\n"


def _key(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z0-9_-]+", name) else json.dumps(name)


def _array(items: Any) -> str:
    return "[" + ", ".join(json.dumps(str(i)) for i in items) + "]"


SINGLE_USER = Policy(enforced=False)


def _string_list(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"policy: {where} must be a list of strings")
    return tuple(value)


def parse_policy(text: str, *, source: str = "policy") -> Policy:
    """Parse and validate a policy document; ConfigError naming `source` and the key on error."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: invalid TOML: {exc}") from None
    unknown = set(data) - {"roles", "bindings", "impersonation"}
    if unknown:
        raise ConfigError(f"{source}: unknown section(s) {sorted(unknown)}")
    for section in ("roles", "bindings", "impersonation"):
        if not isinstance(data.get(section, {}), dict):
            raise ConfigError(f"{source}: '{section}' must be a table ([{section}])")
    roles: dict[str, Role] = {}
    for name, body in data.get("roles", {}).items():
        if not isinstance(body, dict):
            raise ConfigError(f"{source}: roles.{name} must be a table")
        extra = set(body) - {"capabilities", "paths"}
        if extra:
            raise ConfigError(f"{source}: roles.{name} has unknown key(s) {sorted(extra)}")
        caps = frozenset(_string_list(body.get("capabilities", []), f"roles.{name}.capabilities"))
        bad = caps - CAPABILITIES
        if bad:
            raise ConfigError(f"{source}: roles.{name}: unknown capabilities {sorted(bad)}")
        paths = _string_list(body.get("paths", []), f"roles.{name}.paths")
        roles[name] = Role(name=name, capabilities=caps, paths=paths)
    bindings: dict[str, tuple[str, ...]] = {}
    for identity, names in data.get("bindings", {}).items():
        bindings[identity] = _string_list(names, f"bindings.{identity}")
        missing = [n for n in bindings[identity] if n not in roles]
        if missing:
            raise ConfigError(f"{source}: bindings.{identity} names undefined role(s) {missing}")
    impersonation = {
        real: _string_list(claims, f"impersonation.{real}") for real, claims in data.get("impersonation", {}).items()
    }
    return Policy(
        roles=MappingProxyType(roles),
        bindings=MappingProxyType(bindings),
        impersonation=MappingProxyType(impersonation),
    )
