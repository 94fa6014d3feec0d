"""Template errors never quote a transformed value; --watch never misses a change made while rendering."""

from __future__ import annotations

import secrets
import string
from collections.abc import Iterator
from pathlib import Path

import pytest

from leakvault.vault.config import VaultSettings
from leakvault.vault.factory import open_local_backend, open_vault
from leakvault.vault.inject import Runner, RunPlan, SecretRef, watch_template
from leakvault.vault.model import SecretValue
from leakvault.vault.secret_vault import SecretVault

from .helpers import cli_env, run_cli

# Made at run time: lower-case letters (so |upper changes every character) and a PIN with a leading
# zero (so |int changes its text and scrubbing the exact value cannot catch it).
TOKEN = "".join(secrets.choice(string.ascii_lowercase) for _ in range(24))
PIN = "0" + str(1_000_000 + secrets.randbelow(8_999_999))


@pytest.fixture
def env(tmp_path: Path, settings: VaultSettings) -> dict[str, str]:
    with open_vault(settings) as sv:
        sv.set("app/token", TOKEN)
        sv.set("app/pin", PIN)
    from .helpers import PASSPHRASE

    return cli_env(
        tmp_path,
        {
            "MAHAVISHNU_SECRETS__LOCAL__PATH": str(settings.local.path),
            "MAHAVISHNU_SECRETS__LOCAL__PASSPHRASE": PASSPHRASE,
        },
    )


@pytest.mark.parametrize(
    ("source", "leaked"),
    [
        ('{{ {"a": 1}[secret("app/token") | upper] }}', TOKEN.upper()),
        ('{{ {"a": 1}[secret("app/token")[3:19]] }}', TOKEN[3:19]),
        ('{{ {"a": 1}[secret("app/token") | reverse | join] }}', TOKEN[::-1]),
        ('{{ {"a": 1}[secret("app/pin") | int] }}', PIN[1:]),
        ('{{ secret("app/token") | attr(secret("app/token") | title) }}', TOKEN.title()),
        ('{{ secret(secret("app/token") | upper) }}', TOKEN.upper()),
        ('{{ secret("x/" ~ secret("app/token")[:12]) }}', TOKEN[:12]),
    ],
    ids=["upper", "slice", "reverse", "int", "attr-title", "path-upper", "path-slice"],
)
def test_template_errors_never_show_transformed_values(
    env: dict[str, str], tmp_path: Path, source: str, leaked: str
) -> None:
    """An error after a secret was read names its type and line only: no transformed value survives."""
    template = tmp_path / "t.j2"
    template.write_text("first line\n" + source + "\n")
    result = run_cli(["inject", str(template)], env)
    err = result.stderr.decode()
    assert result.returncode == 2 and err.startswith("leakvault: error: template ") and err.count("\n") == 1, err
    assert leaked not in err and TOKEN not in err and PIN[1:] not in err
    assert "withheld" in err or "not shown" in err
    assert not result.stdout


def test_template_errors_before_any_secret_keep_their_detail(env: dict[str, str], tmp_path: Path) -> None:
    """Errors that cannot involve a value (nothing read yet, or a literal path) still say what is wrong."""
    template = tmp_path / "t.j2"
    template.write_text('{{ secret("app/token") }} {{ secret("app/missing") }}')
    assert "secret 'app/missing' does not exist" in run_cli(["inject", str(template)], env).stderr.decode()
    template.write_text("{{ not_defined }}")
    assert "'not_defined' is undefined" in run_cli(["inject", str(template)], env).stderr.decode()


class RacingVault(SecretVault):
    """A vault where a new version of the secret lands right after each of the first `races` reads."""

    def __init__(self, settings: VaultSettings, races: int) -> None:
        backend, audit = open_local_backend(settings)
        super().__init__(backend, audit=audit, identity="tester", actor="tester")
        self.races = races
        self.polls = 0

    def get(self, path: str, version: int | None = None) -> SecretValue:
        value = super().get(path, version)
        if self.races > 0:
            self.races -= 1
            self.set(path, f"written-during-render-{self.races}")
        return value

    def watch_versions(self, paths: list[str]) -> dict[str, int]:  # type: ignore[override]
        self.polls += 1
        return super().watch_versions(paths)


@pytest.fixture
def racing(settings: VaultSettings) -> Iterator[RacingVault]:
    with open_vault(settings) as sv:
        sv.set("app/token", "first")
    vault = RacingVault(settings, races=1)
    try:
        yield vault
    finally:
        vault.close()


def test_watch_template_sees_a_change_made_while_rendering(racing: RacingVault, tmp_path: Path) -> None:
    """inject --watch compares against the version it rendered, so a write during the render is picked up."""
    template = tmp_path / "t.j2"
    template.write_text('{{ secret("app/token") }}')
    out = tmp_path / "out"
    watch_template(racing, template, out, interval=0, stop=lambda: racing.polls >= 3, log=lambda _m: None)
    # Before the fix the version was polled after rendering (already 2), so "first" stayed forever.
    assert out.read_text() == "written-during-render-0"


def test_run_watch_records_the_delivered_version(racing: RacingVault) -> None:
    """run --watch remembers the version it gave the child, not one polled after fetching."""
    runner = Runner(racing, RunPlan(env={"T": SecretRef("app/token")}), ["true"], watch=True)
    values = runner._materialise()
    assert values == {"T": "first"}
    assert runner.delivered_versions == {"app/token": 1}
    assert racing.watch_versions(["app/token"]) == {"app/token": 2}  # so the next poll sees a change
