"""Repositories per minute for ``leakvault sweep``: 1 and 2 local workers, and the same sweep on a
separate ``dask scheduler`` + ``dask worker`` pair, over generated repositories.

Each repository is written with ``git fast-import`` (no network, no corpus): ``--commits``
commits that each rewrite a few of 30 files, with a fake token planted in one commit. Every timed
run is a whole ``leakvault sweep`` process with a fresh state folder (a full first sweep), run in
turn A B C A B C ..., and the median is quoted; then one rerun on an unchanged organisation, which
scans nothing new.

Run: ``python benchmarks/bench_sweep.py [--repos 40] [--commits 200] [--runs 3]``; the table it
prints is the one in docs/sweep.md.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FILES = 30


def _token(rng: random.Random) -> str:
    from leakvault.patterns.examples import expand

    return expand("{token:ghp_}", "crc32_base62", rng)


def build_repository(path: Path, commits: int, seed: int) -> None:
    rng = random.Random(seed)
    contents = {f"src/mod{index}.py": [f"value_{i} = {i}\n" for i in range(30)] for index in range(FILES)}
    stream: list[bytes] = []
    for number in range(1, commits + 1):
        stamp = 1_700_000_000 + number * 60
        message = f"change {number}\n".encode()
        stream += [
            b"commit refs/heads/main\n",
            f"author Bench <bench@example.test> {stamp} +0000\n".encode(),
            f"committer Bench <bench@example.test> {stamp} +0000\n".encode(),
            b"data %d\n%s" % (len(message), message),
        ]
        for name in rng.sample(sorted(contents), 3):
            lines = contents[name]
            lines.insert(rng.randrange(len(lines)), f"setting_{number} = {rng.random()!r}\n")
            if number == commits // 2 and name == sorted(contents)[0]:
                lines.append(f'GITHUB_TOKEN = "{_token(rng)}"\n')
            data = "".join(lines).encode()
            stream.append(b"M 100644 inline %s\ndata %d\n%s\n" % (name.encode(), len(data), data))
    subprocess.run(["git", "init", "-q", "--bare", str(path)], check=True)
    subprocess.run(["git", "-C", str(path), "fast-import", "--quiet"], input=b"".join(stream), check=True)


def _sweep(repos_file: Path, state: Path, extra: list[str]) -> float:
    command = [sys.executable, "-m", "leakvault.cli", "sweep", "--repos-file", str(repos_file), "--state", str(state)]
    started = time.perf_counter()
    completed = subprocess.run([*command, "--format", "json", "-o", str(state) + ".json", *extra], capture_output=True)
    elapsed = time.perf_counter() - started
    if completed.returncode != 1:  # every repository has a planted token
        raise SystemExit(f"sweep exited {completed.returncode}: {completed.stderr.decode()[-400:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repos", type=int, default=40)
    parser.add_argument("--commits", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    dask = str(Path(sys.executable).parent / "dask")
    with tempfile.TemporaryDirectory(prefix="leakvault-sweep-bench-") as scratch:
        root = Path(scratch)
        for number in range(args.repos):
            build_repository(root / f"repo-{number:03d}.git", args.commits, seed=number)
        repos_file = root / "repos.txt"
        repos_file.write_text("".join(f"{root}/repo-{number:03d}.git\n" for number in range(args.repos)))
        scheduler_file = root / "scheduler.json"
        scheduler = subprocess.Popen(
            [dask, "scheduler", "--scheduler-file", str(scheduler_file), "--no-dashboard", "--host", "127.0.0.1"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        worker = None
        try:
            while not (scheduler_file.exists() and scheduler_file.stat().st_size):
                time.sleep(0.1)
            worker = subprocess.Popen(
                [dask, "worker", "--scheduler-file", str(scheduler_file), "--nworkers", "2", "--nthreads", "1"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            from distributed import Client

            with Client(scheduler_file=str(scheduler_file)) as client:
                client.wait_for_workers(2, timeout=120)
                address = client.scheduler.address
            cases = {
                "local, 1 worker": ["--workers", "1"],
                "local, 2 workers": ["--workers", "2"],
                "remote scheduler, 2 workers": ["--scheduler", address],
            }
            times: dict[str, list[float]] = {name: [] for name in cases}
            for run in range(args.runs):
                for name, extra in cases.items():
                    state = root / f"state-{run}-{len(times[name])}-{name.split(',')[0].replace(' ', '_')}"
                    times[name].append(_sweep(repos_file, state, extra))
                    if run < args.runs - 1 or name != "local, 2 workers":
                        shutil.rmtree(state)
            rerun_state = next(root.glob(f"state-{args.runs - 1}-*-local"))
            rerun = _sweep(repos_file, rerun_state, ["--workers", "2"])
        finally:
            for process in (worker, scheduler):
                if process is not None:
                    process.terminate()
                    process.wait(timeout=60)
    total = args.repos * args.commits
    print(f"{args.repos} repositories x {args.commits} commits ({total} commits), median of {args.runs} runs")
    print("| case | wall s (median) | repositories/min | commits/s |")
    print("|---|---|---|---|")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"| {name} | {median:.2f} | {args.repos / median * 60:.0f} | {total / median:.0f} |")
    print(f"| rerun, nothing new (2 workers) | {rerun:.2f} | {args.repos / rerun * 60:.0f} | - |")


if __name__ == "__main__":
    main()
