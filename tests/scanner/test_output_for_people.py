"""What a person sees: the live progress line, colour choices, the text report's fix lines and
summary table, and the rough edges a new user met (plurals, --strict, dates, unreadable folders)."""

from __future__ import annotations

import os
import pty
import random
import select
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.scanner.gitrepo import GitRepo
from tests.scanner.tokens import github_pat

RunCli = Callable[..., subprocess.CompletedProcess[str]]


def _tree(root: Path, rng: random.Random, files: int = 40) -> Path:
    """A tree large enough for the worker pool (over 16 files and 4 MB), with one token in it."""
    root.mkdir()
    line = "value = compute(alpha, beta, gamma)  # an ordinary line of code\n"
    for index in range(files):
        (root / f"module_{index:02d}.py").write_text(line * 2_000)
    (root / "settings.env").write_text(f"GITHUB_TOKEN={github_pat(rng)}\n")
    return root


def _stderr_on_a_terminal(
    args: list[str], env: dict[str, str], cwd: Path, python_args: tuple[str, ...] = ()
) -> tuple[int, bytes]:
    """Run the CLI with stderr on a pseudo-terminal (stdout to /dev/null); return its exit code and
    everything it wrote to the terminal."""
    master, slave = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, *python_args, "-m", "leakvault.cli", *args],
        stdout=subprocess.DEVNULL,
        stderr=slave,
        env=env,
        cwd=cwd,
    )
    os.close(slave)
    output = b""
    while True:
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            output += chunk
        elif process.poll() is not None:
            break
    os.close(master)
    return process.wait(), output


def _env(**extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in ("CI", "NO_COLOR", "LEAKVAULT_DEBUG")}
    return {**env, "LEAKVAULT_PROGRESS_DELAY": "0", **extra}


def test_a_long_scan_on_a_terminal_shows_a_live_progress_line(tmp_path: Path) -> None:
    """On a terminal the scan shows files done of found, bytes, findings and a rate on stderr."""
    tree = _tree(tmp_path / "tree", random.Random(1))
    code, output = _stderr_on_a_terminal(["scan", "--format", "json", str(tree)], _env(), tmp_path)
    assert code == 1
    text = output.decode("utf-8", "replace")
    assert "scanning" in text and " files · " in text and "findings" in text and "/s" in text
    assert "\r" in text  # redrawn in place


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (["--no-progress"], {}),
        (["--quiet"], {}),
        ([], {"CI": "true"}),
    ],
)
def test_no_progress_line_when_asked_or_in_ci(tmp_path: Path, args: list[str], env: dict[str, str]) -> None:
    """--no-progress, --quiet and CI=true each keep the terminal free of the progress line."""
    tree = _tree(tmp_path / "tree", random.Random(2))
    code, output = _stderr_on_a_terminal(["scan", "--format", "json", *args, str(tree)], _env(**env), tmp_path)
    assert code == 1
    assert b"scanning" not in output


def test_no_progress_line_when_stderr_is_a_pipe(tmp_path: Path, run_cli: RunCli) -> None:
    """Piped, the same scan writes nothing but its warnings to stderr."""
    tree = _tree(tmp_path / "tree", random.Random(3))
    result = run_cli("scan", "--format", "json", str(tree), env={"LEAKVAULT_PROGRESS_DELAY": "0"})
    assert result.returncode == 1
    assert "scanning" not in result.stderr and "\r" not in result.stderr


def test_the_pre_commit_path_never_imports_the_display(tmp_path: Path) -> None:
    """A --staged run (what the hook runs) does not import rich, even on a terminal."""
    repo = GitRepo(tmp_path / "repo")
    repo.write("app.py", "x = 1\n")
    repo.git("add", "app.py")
    code, output = _stderr_on_a_terminal(["scan", "--staged", "app.py"], _env(), repo.path, ("-X", "importtime"))
    imported = output.decode("utf-8", "replace")
    assert code == 0, imported[-2000:]
    assert "leakvault.scanner.git_scan" in imported  # the importtime output is there
    assert "rich" not in imported


def test_color_always_never_and_no_color(tmp_path: Path, run_cli: RunCli) -> None:
    """--color always colours even a pipe; --color never and NO_COLOR (with auto) do not."""
    (tmp_path / "app.env").write_text(f"GITHUB_TOKEN={github_pat(random.Random(4))}\n")
    always = run_cli("scan", "--color", "always", "app.env")
    assert "\x1b[" in always.stdout
    never = run_cli("scan", "--color", "never", "app.env")
    assert "\x1b[" not in never.stdout
    no_color = run_cli("scan", "app.env", env={"NO_COLOR": "1"})
    assert "\x1b[" not in no_color.stdout


def test_the_text_report_gives_a_fix_and_a_summary_table(tmp_path: Path, run_cli: RunCli) -> None:
    """Each finding has its rule's one-line fix; a table counts findings by rule, new and baselined."""
    rng = random.Random(5)
    (tmp_path / "a.env").write_text(f"GITHUB_TOKEN={github_pat(rng)}\n")
    (tmp_path / "b.env").write_text(f"GITHUB_TOKEN={github_pat(rng)}\n")
    made = run_cli("baseline", "create", "b.env", "-o", "baseline.json")
    assert made.returncode == 0, made.stderr
    result = run_cli("scan", "--color", "never", "--baseline", "baseline.json", "a.env", "b.env")
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert any(line.strip().startswith("fix: ") for line in lines)
    header = next(index for index, line in enumerate(lines) if line.startswith("rule "))
    assert lines[header].split() == ["rule", "severity", "new", "baselined"]
    assert lines[header + 1].split() == ["github-pat", "high", "1", "1"]
    assert "(1 more accepted by the baseline)" in lines[-1]


def test_one_file_is_singular(tmp_path: Path, run_cli: RunCli) -> None:
    """The summary says 'scanned 1 file', not '1 files'."""
    (tmp_path / "a.txt").write_text("nothing here\n")
    result = run_cli("scan", "--color", "never", "a.txt")
    assert "scanned 1 file (" in result.stdout


def test_strict_fails_a_scan_that_skipped_a_file(tmp_path: Path, run_cli: RunCli) -> None:
    """A file over the size cap: exit 0 with the skip in the summary; with --strict, exit 2 saying so."""
    (tmp_path / ".leakvault.toml").write_text('max_file_size = "1kb"\n')
    (tmp_path / "big.txt").write_text("x" * 5000)
    plain = run_cli("scan", "--color", "never", "big.txt")
    assert plain.returncode == 0 and "skipped 1 too large" in plain.stdout
    strict = run_cli("scan", "--strict", "big.txt")
    assert strict.returncode == 2
    assert "--strict: 1 file not fully scanned (1 too large" in strict.stderr


def test_a_date_git_cannot_read_is_refused(tmp_path: Path, run_cli: RunCli) -> None:
    """--since notadate is a one-line usage error instead of an empty history scan."""
    repo = GitRepo(tmp_path / "repo")
    repo.write("a.txt", "x\n")
    repo.commit("one")
    result = run_cli("scan", "--git", "--since", "notadate", cwd=repo.path)
    assert result.returncode == 2
    assert result.stderr.startswith("leakvault: error: --since 'notadate' is not a date")
    assert run_cli("scan", "--git", "--since", "2 weeks ago", cwd=repo.path).returncode == 0


def test_an_unreadable_folder_is_warned_about_and_counted(tmp_path: Path) -> None:
    """A sub-folder that cannot be listed is a warning and counts as unreadable, like a file."""
    setpriv = shutil.which("setpriv")
    demote: list[str] = []
    if os.geteuid() == 0:  # root lists any folder: run the scan as nobody instead
        if setpriv is None:
            pytest.skip("running as root without setpriv to drop privileges")
        demote = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]
        probe = subprocess.run([*demote, sys.executable, "-c", "import leakvault"], capture_output=True, check=False)
        if probe.returncode != 0:
            pytest.skip("the unprivileged user cannot run this Python environment")
    root = Path(__import__("tempfile").mkdtemp(prefix="leakvault-unreadable-"))
    try:
        root.chmod(0o755)
        (root / "ok.txt").write_text("fine\n")
        (root / "ok.txt").chmod(0o644)
        locked = root / "locked"
        locked.mkdir()
        (locked / "inside.txt").write_text("hidden\n")
        locked.chmod(0)
        completed = subprocess.run(
            [*demote, sys.executable, "-m", "leakvault.cli", "scan", "--format", "json", str(root)],
            capture_output=True,
            text=True,
            env=_env(),
            cwd="/",
            check=False,
        )
        assert completed.returncode == 0, completed.stderr
        assert "locked/: skipped, cannot be read" in completed.stderr
        import json

        assert json.loads(completed.stdout)["stats"]["skipped_unreadable"] == 1
    finally:
        (root / "locked").chmod(0o700)
        shutil.rmtree(root)
