"""The HTML report, opened in a real headless Chromium (Debian's package) through Playwright."""

from __future__ import annotations

import os
import random
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from leakvault.scanner.report.html import template_text
from tests.scanner.gitrepo import GitRepo
from tests.scanner.tokens import aws_key_pair, github_pat

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "images" / "report.png"
# Flags for a sandboxed CI machine with no network: no first-run, sync or update traffic.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]  # fmt: skip

Run = Callable[..., subprocess.CompletedProcess[str]]


@dataclass(frozen=True)
class Report:
    path: Path
    secrets: list[str]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Report:
    """A history with secrets of three severities over several commits, one of them baselined."""
    import sys

    rng = random.Random(20261205)
    root = tmp_path_factory.mktemp("html")
    repo = GitRepo(root / "shop")
    pat = github_pat(rng)
    key_id, secret_key = aws_key_pair(rng)
    password = "".join(rng.choice("abcdefghijkmnpqrstuvwxyzACDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(18))
    old_pat = github_pat(rng)
    repo.write("README.md", "# shop\n")
    repo.commit("start")
    repo.write("deploy/ci.env", f"GITHUB_TOKEN={pat}\n")
    repo.commit("ci token", date="2024-02-03T10:00:00+00:00")
    repo.write("config/aws.ini", f"aws_access_key_id = {key_id}\naws_secret_access_key = {secret_key}\n")
    repo.commit("aws", date="2024-05-20T10:00:00+00:00")
    repo.write("src/db.py", f'DB_PASSWORD = "{password}"\n')
    repo.commit("db", date="2024-05-21T10:00:00+00:00")
    repo.write("legacy/old.env", f"GH_TOKEN={old_pat}\n")
    repo.commit("legacy", date="2024-07-01T10:00:00+00:00")
    env = {**os.environ}
    env.pop("LEAKVAULT_DEBUG", None)

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "leakvault.cli", *args], cwd=repo.path, env=env, capture_output=True, text=True
        )

    # Accept the legacy token in a baseline, so the page has a baselined row.
    made = cli("baseline", "create", "legacy/old.env", "-o", str(root / "baseline.json"))
    assert made.returncode == 0, made.stderr
    out = root / "report.html"
    result = cli("scan", "--git", "--format", "html", "-o", str(out), "--baseline", str(root / "baseline.json"))
    assert result.returncode == 1, result.stderr
    return Report(out, [pat, key_id, secret_key, password, old_pat])


def test_the_page_holds_no_secret_value(report: Report) -> None:
    """Not one planted secret appears anywhere in the file, not even in its embedded data."""
    text = report.path.read_text(encoding="utf-8")
    for secret in report.secrets:
        assert secret not in text


def test_the_page_loads_nothing_from_outside() -> None:
    """The template names no URL to fetch (only the SVG namespace) and forbids loads by policy."""
    source = template_text()
    assert "default-src 'none'" in source
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", source)
    assert "@import" not in source and "url(" not in source


def test_no_redact_is_refused_for_html(run_cli: Run, tmp_path: Path) -> None:
    """A page is shared; --no-redact with --format html is a usage error, not a page of secrets."""
    (tmp_path / "a.txt").write_text("nothing\n")
    result = run_cli("scan", "a.txt", "--format", "html", "--no-redact")
    assert result.returncode == 2 and "--no-redact" in result.stderr


@pytest.fixture(scope="module")
def page(report: Report) -> Iterator[object]:
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed (.ci/run installs Debian's chromium package)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.console_messages = []  # type: ignore[attr-defined]  # collected for the tests below
        page.requests = []  # type: ignore[attr-defined]
        page.on("console", lambda message: page.console_messages.append(message))  # type: ignore[attr-defined]
        page.on("pageerror", lambda error: page.console_messages.append(error))  # type: ignore[attr-defined]
        page.on("request", lambda request: page.requests.append(request.url))  # type: ignore[attr-defined]
        page.goto(report.path.as_uri())
        page.wait_for_selector("#findings tbody tr")
        yield page
        browser.close()


def _rows(page: object) -> list[list[str]]:
    return page.eval_on_selector_all(  # type: ignore[attr-defined, no-any-return]
        "#findings tbody tr", "rows => rows.map(r => [...r.cells].map(c => c.innerText))"
    )


def test_the_page_renders_cards_charts_and_rows(page: object, report: Report) -> None:
    """Summary cards, every chart with its bars, and one row per finding (new and baselined)."""
    assert page.title() == "leakvault report"  # type: ignore[attr-defined]
    charts = page.eval_on_selector_all(  # type: ignore[attr-defined]
        "svg.chart", "charts => charts.map(c => c.querySelectorAll('rect.bar').length)"
    )
    assert len(charts) >= 5 and all(count >= 1 for count in charts)
    rows = _rows(page)
    assert len(rows) == 5
    assert sorted(row[-1] for row in rows) == ["baselined", "new", "new", "new", "new"]
    assert "5 of 5 findings shown" in page.inner_text("#count")  # type: ignore[attr-defined]


def test_filters_narrow_the_table(page: object) -> None:
    """Choosing a severity, a status or typing a path shows only the matching rows, and undoing it all of them."""
    page.select_option("#filter-severity", "high")  # type: ignore[attr-defined]
    high = _rows(page)
    assert 0 < len(high) < 5 and all(row[0].lower() == "high" for row in high)
    page.select_option("#filter-severity", "")  # type: ignore[attr-defined]
    page.select_option("#filter-status", "baselined")  # type: ignore[attr-defined]
    baselined = _rows(page)
    assert len(baselined) == 1 and "legacy/old.env" in baselined[0][2]
    page.select_option("#filter-status", "")  # type: ignore[attr-defined]
    page.fill("#filter-text", "config/aws")  # type: ignore[attr-defined]
    assert {row[2].split(":")[0] for row in _rows(page)} == {"config/aws.ini"}
    page.fill("#filter-text", "")  # type: ignore[attr-defined]
    assert len(_rows(page)) == 5


def test_a_header_click_sorts_the_table(page: object) -> None:
    """Clicking Location sorts by path, clicking again reverses it."""
    page.click("th[data-key=path]")  # type: ignore[attr-defined]
    paths = [row[2] for row in _rows(page)]
    assert paths == sorted(paths)
    page.click("th[data-key=path]")  # type: ignore[attr-defined]
    assert [row[2] for row in _rows(page)] == sorted(paths, reverse=True)


def test_no_console_error_no_request_and_no_secret_in_the_dom(page: object, report: Report, tmp_path: Path) -> None:
    """The console stays clean, the page fetches nothing but itself, and the live DOM holds no secret."""
    errors = [m for m in page.console_messages if not hasattr(m, "type") or m.type == "error"]  # type: ignore[attr-defined]
    assert errors == []
    assert page.requests == [report.path.as_uri()]  # type: ignore[attr-defined]
    dom = page.content() + page.inner_text("body")  # type: ignore[attr-defined]
    for secret in report.secrets:
        assert secret not in dom
    target = SCREENSHOT if os.environ.get("LEAKVAULT_WRITE_SCREENSHOTS") == "1" else tmp_path / "report.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(target), full_page=True)  # type: ignore[attr-defined]
    assert target.stat().st_size > 10_000
