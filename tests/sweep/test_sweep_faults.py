"""Faults during a sweep: a worker killed with SIGKILL, an interrupted client, a remote cluster."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from leakvault.sweep import SweepOptions, run_sweep
from leakvault.sweep.runner import SweepProgress
from leakvault.sweep.store import ResultsStore
from tests.sweep.conftest import COMMITS_PER_REPOSITORY, REPOSITORIES, Organisation

TOTAL_COMMITS = REPOSITORIES * COMMITS_PER_REPOSITORY


def _sources(org: Organisation) -> tuple[str, ...]:
    return tuple(str(repo.path) for repo in org.repos)


def _stored(state: Path) -> tuple[set[tuple[object, ...]], int]:
    """Every stored place of a secret, and how many commits the store says were scanned."""
    with sqlite3.connect(state / "results.sqlite") as db:
        places = set(db.execute("SELECT repository, rule_id, path, secret_hash, sha, line FROM locations"))
        (commits,) = db.execute("SELECT COUNT(*) FROM scanned").fetchone()
    return places, commits


@pytest.fixture(scope="module")
def clean_sweep(organisation: Organisation, tmp_path_factory: pytest.TempPathFactory) -> set[tuple[object, ...]]:
    """What an undisturbed sweep stores: the reference the faulty runs are held against."""
    state = tmp_path_factory.mktemp("clean") / "state"
    summary = run_sweep(SweepOptions(_sources(organisation), str(state), workers=2, range_commits=2))
    assert not summary.failed and summary.progress.commits_scanned == TOTAL_COMMITS
    places, commits = _stored(state)
    assert commits == TOTAL_COMMITS and len(places) == REPOSITORIES + 2
    return places


def test_a_worker_killed_mid_sweep_loses_and_duplicates_nothing(
    organisation: Organisation, clean_sweep: set[tuple[object, ...]], tmp_path: Path
) -> None:
    """SIGKILL to a worker while ranges are queued on it: Dask runs them again elsewhere and the
    store ends up exactly as an undisturbed sweep's."""
    from distributed import get_client

    killed: list[int] = []

    def kill_a_worker(progress: SweepProgress) -> None:
        if killed or progress.ranges_done == 0:
            return
        assert progress.ranges_done < progress.ranges_total  # work is still queued
        pids = sorted(get_client().run(os.getpid).values())
        os.kill(pids[0], signal.SIGKILL)
        killed.append(pids[0])

    state = tmp_path / "state"
    summary = run_sweep(
        SweepOptions(_sources(organisation), str(state), workers=2, range_commits=2), on_progress=kill_a_worker
    )
    assert killed, "no worker was killed"
    assert not summary.failed
    places, commits = _stored(state)
    assert places == clean_sweep
    assert commits == TOTAL_COMMITS


def test_an_interrupted_sweep_keeps_what_finished_and_resumes(
    organisation: Organisation, clean_sweep: set[tuple[object, ...]], tmp_path: Path
) -> None:
    """Ctrl-C after five ranges: those stay stored, and the next run scans only the rest."""

    def interrupt(progress: SweepProgress) -> None:
        if progress.ranges_done == 5:
            raise KeyboardInterrupt

    state = tmp_path / "state"
    options = SweepOptions(_sources(organisation), str(state), workers=2, range_commits=2)
    with pytest.raises(KeyboardInterrupt):
        run_sweep(options, on_progress=interrupt)
    _, commits_before = _stored(state)
    assert commits_before == 5 * 2
    summary = run_sweep(options)
    assert summary.progress.commits_scanned == TOTAL_COMMITS - commits_before
    places, commits = _stored(state)
    assert places == clean_sweep and commits == TOTAL_COMMITS


def test_sigterm_stops_the_cli_and_a_rerun_finishes(organisation: Organisation, tmp_path: Path) -> None:
    """SIGTERM to a running ``leakvault sweep``: exit 130, finished ranges kept, the rerun does the rest."""
    state = tmp_path / "state"
    repos = organisation.repos_file(tmp_path)
    command = [
        sys.executable, "-m", "leakvault.cli", "sweep", "--repos-file", str(repos), "--workers", "2",
        "--state", str(state), "--range-commits", "1", "--format", "json", "-o", str(tmp_path / "out.json"),
    ]  # fmt: skip
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    store = state / "results.sqlite"
    for _ in range(6000):  # until the first ranges are stored (bounded by count, not by a clock)
        if store.exists():
            try:
                with sqlite3.connect(store) as db:
                    if db.execute("SELECT COUNT(*) FROM scanned").fetchone()[0] >= 3:
                        break
            except sqlite3.OperationalError:
                pass  # the schema is being created
        if process.poll() is not None:
            break
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=120)
    if process.returncode == 1:
        pytest.skip("the sweep finished before SIGTERM arrived")  # a very fast machine
    assert process.returncode == 130, stderr
    assert "interrupted" in stderr
    _, kept = _stored(state)
    assert 3 <= kept < TOTAL_COMMITS
    rerun = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 1, rerun.stderr
    assert f"{TOTAL_COMMITS - kept} new commits" in rerun.stderr
    assert len(json.loads((tmp_path / "out.json").read_text())["findings"]) == REPOSITORIES + 1


def test_a_remote_scheduler_runs_the_same_sweep(
    organisation: Organisation, clean_sweep: set[tuple[object, ...]], tmp_path: Path
) -> None:
    """Separate ``dask scheduler`` and ``dask worker`` processes: the same tasks, the same store."""
    from distributed import Client

    dask = str(Path(sys.executable).parent / "dask")
    scheduler_file = tmp_path / "scheduler.json"
    scheduler = subprocess.Popen(
        [dask, "scheduler", "--scheduler-file", str(scheduler_file), "--no-dashboard", "--host", "127.0.0.1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    worker = None
    try:
        for _ in range(1200):
            if scheduler_file.exists() and scheduler_file.stat().st_size:
                break
            time.sleep(0.05)
        worker = subprocess.Popen(
            [dask, "worker", "--scheduler-file", str(scheduler_file), "--nworkers", "2", "--nthreads", "1",
             "--no-dashboard"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        with Client(scheduler_file=str(scheduler_file), timeout="60s") as client:
            client.wait_for_workers(2, timeout=120)
            address = client.scheduler.address
        state = tmp_path / "state"
        summary = run_sweep(SweepOptions(_sources(organisation), str(state), scheduler=address, range_commits=2))
        assert not summary.failed
        places, commits = _stored(state)
        assert places == clean_sweep and commits == TOTAL_COMMITS
    finally:
        for process in (worker, scheduler):
            if process is not None:
                process.terminate()
                process.wait(timeout=60)


def test_the_store_refuses_a_file_that_is_not_one(tmp_path: Path) -> None:
    """A results file that is not SQLite is a one-line usage error, and is left as it was."""
    from leakvault.errors import UsageError

    (tmp_path / "results.sqlite").write_bytes(b"not a database at all" * 100)
    with pytest.raises(UsageError, match="not a leakvault sweep store"):
        ResultsStore(str(tmp_path))
    assert (tmp_path / "results.sqlite").read_bytes() == b"not a database at all" * 100
