"""Every dependency floor in pyproject.toml sits at or above the fix of each advisory we know of.

The table is the record of docs/security.md ("Dependencies"): when an advisory is published, add it
here and raise the floor. The test also checks that the environment it runs in meets the floors.
"""

from __future__ import annotations

import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"

# package -> (first version without any advisory we know of, the advisories that version fixes)
KNOWN_FIXES: dict[str, tuple[str, str]] = {
    "jinja2": ("3.1.6", "CVE-2024-56201, CVE-2024-56326 (3.1.5), CVE-2025-27516 (3.1.6): sandbox escapes"),
    "cryptography": ("50.0.0", "GHSA-79v4-65xg-pq4g (44.0.1) ... GHSA-g6cj-pr64-35w5 (50.0.0)"),
    "gitpython": ("3.1.62", "CVE-2024-22190 (3.1.41), CVE-2026-78676 (3.1.59), CVE-2026-87817 (3.1.62)"),
    "requests": ("2.33.0", "CVE-2024-47081 (2.32.4), CVE-2026-25645 (2.33.0)"),
    "urllib3": ("2.8.0", "CVE-2026-97687, CVE-2026-97688 (2.8.0)"),
    "azure-identity": ("1.16.1", "CVE-2024-35255 (1.16.1)"),
    "pyyaml": ("6.0", "CVE-2020-14343 (5.4)"),
}


def _declared() -> dict[str, list[Requirement]]:
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    groups = [project["dependencies"], *project["optional-dependencies"].values()]
    out: dict[str, list[Requirement]] = {}
    for group in groups:
        for line in group:
            requirement = Requirement(line)
            out.setdefault(requirement.name.lower(), []).append(requirement)
    return out


def _floor(requirement: Requirement) -> Version | None:
    floors = [Version(s.version) for s in requirement.specifier if s.operator in (">=", "==", "~=")]
    return max(floors) if floors else None


@pytest.mark.parametrize("package", sorted(KNOWN_FIXES))
def test_floor_is_above_known_advisories(package: str) -> None:
    """Each declaration of the package has a floor at or above the last known fix."""
    fixed, advisories = KNOWN_FIXES[package]
    declared = _declared().get(package)
    if package in ("urllib3", "requests") and declared is None:
        pytest.fail(f"{package} carries the Vault token (hashicorp extra) and must be declared with a floor")
    assert declared, f"{package} is no longer a dependency: drop it from KNOWN_FIXES"
    for requirement in declared:
        floor = _floor(requirement)
        assert floor is not None and floor >= Version(fixed), f"{requirement} admits versions with {advisories}"


@pytest.mark.parametrize("package", sorted(KNOWN_FIXES))
def test_installed_versions_meet_the_floors(package: str) -> None:
    """The environment the tests run in has no version below a known fix."""
    try:
        installed = Version(metadata.version(package))
    except metadata.PackageNotFoundError:
        pytest.skip(f"{package} is not installed here")
    assert installed >= Version(KNOWN_FIXES[package][0])
