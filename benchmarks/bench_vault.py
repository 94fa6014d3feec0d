"""Vault latency: unlock (PBKDF2 at the default 600,000 iterations), then set/get per operation.

Targets: unlock under 1 s, set and get under 2 ms each after unlocking. Every
operation is measured through `SecretVault`, so it includes the RBAC check, the encryption, the
SQLite transaction (synchronous=FULL, so an fsync) and the audit record (a second transaction).

    python benchmarks/bench_vault.py [--n 1000] [--dir DIR] [--json]

DIR defaults to a temporary directory; point it at the disk the vault will really live on.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from leakvault.vault import _crypto
from leakvault.vault.config import load_settings
from leakvault.vault.factory import init_local_vault, open_vault
from leakvault.vault.keys import KeyMaterial


def _summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "median_ms": round(statistics.median(ordered) * 1000, 3),
        "p95_ms": round(ordered[int(len(ordered) * 0.95) - 1] * 1000, 3),
        "max_ms": round(ordered[-1] * 1000, 3),
    }


def run(n: int, directory: Path) -> dict[str, object]:
    path = directory / "bench-vault.db"
    env = {"MAHAVISHNU_SECRETS__LOCAL__PATH": str(path), "MAHAVISHNU_SECRETS__LOCAL__PASSPHRASE": "benchmark"}
    settings = load_settings(env, cwd=directory)
    init_local_vault(settings, KeyMaterial("benchmark", passphrase="benchmark"))
    _crypto.clear_kek_cache()  # measure a cold unlock, as a fresh process sees it

    start = time.perf_counter()
    vault = open_vault(settings)
    unlock = time.perf_counter() - start

    sets, gets = [], []
    with vault:
        for i in range(n):
            t = time.perf_counter()
            vault.set(f"bench/secret-{i:05d}", f"value-{i}-" + "x" * 40)
            sets.append(time.perf_counter() - t)
        for i in range(n):
            t = time.perf_counter()
            vault.get(f"bench/secret-{i:05d}")
            gets.append(time.perf_counter() - t)
        t = time.perf_counter()
        listed = vault.list("bench/")
        list_time = time.perf_counter() - t
        t = time.perf_counter()
        report = vault.verify_audit()
        verify_time = time.perf_counter() - t
    assert len(listed) == n and report.ok
    return {
        "n": n,
        "directory": str(directory),
        "kdf_iterations": _crypto.DEFAULT_ITERATIONS,
        "unlock_s": round(unlock, 3),
        "set": _summary(sets),
        "get": _summary(gets),
        "list_ms": round(list_time * 1000, 2),
        "audit_verify_ms": round(verify_time * 1000, 2),
        "audit_records": report.count,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--dir", type=Path)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.dir is not None:
        args.dir.mkdir(parents=True, exist_ok=True)
        result = run(args.n, args.dir)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            result = run(args.n, Path(tmp))
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"unlock (PBKDF2 x{result['kdf_iterations']:,}): {result['unlock_s']} s")
    for op in ("set", "get"):
        s = result[op]
        assert isinstance(s, dict)
        print(f"{op}: median {s['median_ms']} ms, p95 {s['p95_ms']} ms, max {s['max_ms']} ms  (n={result['n']})")
    print(
        f"list of {result['n']}: {result['list_ms']} ms; audit verify of {result['audit_records']}: "
        f"{result['audit_verify_ms']} ms"
    )


if __name__ == "__main__":
    main()
