"""Build the independent corpus: real files from this machine, with provider-format secrets and hard
negatives inserted at plausible places by a small seeded script, plus ``truth.json``.

    python -m benchmarks.realworld.generate OUT_DIR [--seed N] [--scale F]

The truth file has the same shape as the generated corpus's (`benchmarks.accuracy.generate`), so
`benchmarks.accuracy.score` scores both the same way. Same seed, same machine: same bytes.
"""

from __future__ import annotations

import argparse
import base64
import json
import random
import shutil
import string
import sys
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from benchmarks.accuracy import keys
from benchmarks.accuracy.model import Plant, TruthRecord
from benchmarks.accuracy.tokens import chars
from benchmarks.realworld import insert, providers, sources

GENERATOR_VERSION = 1
DEFAULT_SEED = 20261205
MAX_PLANTS_PER_FILE = 2
HEX = "0123456789abcdef"


def _uuid(rng: random.Random) -> str:
    return providers._uuid(rng)


# Hard negatives: (id, maker, names). Each looks like a secret or sits where one sits, and is not one.
NEGATIVES: tuple[tuple[str, Callable[[random.Random], str], tuple[str, ...], int], ...] = (
    ("uuid", _uuid, ("request_id", "TENANT_ID", "client_id", "workspace_id"), 10),
    ("sha256", lambda r: chars(r, HEX, 64), ("checksum", "sha256", "digest"), 8),
    ("md5", lambda r: chars(r, HEX, 32), ("etag", "md5sum", "cache_key"), 6),
    ("git-sha", lambda r: chars(r, HEX, 40), ("commit", "GIT_SHA", "base_revision"), 6),
    (
        "placeholder",
        lambda r: r.choice(
            [
                "<YOUR_API_KEY>",
                "your-token-here",
                "changeme",
                "xxxxxxxxxxxxxxxxxxxxxxxx",
                "${API_TOKEN}",
                "{{ api_token }}",
                "REPLACE_ME",
                "sk_live_xxxxxxxxxxxxxxxxxxxxxxxx",
                "ghp_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
                "AKIAXXXXXXXXXXXXXXXX",
                "<password>",
                "********",
            ]
        ),
        ("API_KEY", "GITHUB_TOKEN", "password", "STRIPE_SECRET_KEY", "AWS_ACCESS_KEY_ID"),
        16,
    ),
    (
        "documented-example",
        lambda r: r.choice(["AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"]),
        ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"),
        4,
    ),
    (
        "test-fixture",
        lambda r: r.choice(["sk_test_", "pk_test_", "rk_test_"]) + chars(r, string.ascii_letters + string.digits, 24),
        ("STRIPE_TEST_KEY", "stripe_key"),
        6,
    ),
    (
        "publishable-key",
        lambda r: "pk_live_" + chars(r, string.ascii_letters + string.digits, 24),
        ("STRIPE_PUBLISHABLE_KEY",),
        3,
    ),
    (
        "base64-blob",
        lambda r: "data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\n" + r.randbytes(60)).decode(),
        ("logo", "icon_data"),
        4,
    ),
    ("sri-hash", lambda r: "sha384-" + base64.b64encode(r.randbytes(48)).decode(), ("integrity",), 3),
    ("ssh-public-key", keys.ssh_ed25519_public, ("SSH_PUBLIC_KEY", "authorized_key"), 4),
    (
        "identifier",
        lambda r: r.choice(["password_reset_token", "Bearer", "X-Api-Key", "access_token", "oauth2/token"]),
        ("TOKEN_TYPE", "API_KEY_HEADER", "PASSWORD_FIELD", "token_url"),
        6,
    ),
)


def make_positives(rng: random.Random) -> list[Plant]:
    plants = []
    for kind in providers.KINDS:
        for _ in range(kind.count):
            plants.append(
                Plant(
                    kind=kind.id,
                    family=kind.family,
                    value=kind.make(rng),
                    name=rng.choice(kind.names),
                    positive=True,
                    needs_name=kind.needs_name,
                    multiline=kind.multiline,
                    url=kind.url,
                )
            )
    return plants


def make_negatives(rng: random.Random) -> list[Plant]:
    plants = []
    for kind_id, make, names, count in NEGATIVES:
        for _ in range(count):
            plants.append(
                Plant(
                    kind="neg:" + kind_id,
                    family="negative",
                    value=make(rng),
                    name=rng.choice(names),
                    positive=False,
                    needs_name=True,
                )
            )
    return plants


def _read_lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").split("\n")


def generate(
    out: Path,
    seed: int = DEFAULT_SEED,
    scale: float = 1.0,
    max_plants: int | None = None,
    origins: tuple[sources.Origin, ...] | None = None,
) -> dict[str, object]:
    """Write the corpus into ``out`` (emptied first) and return the truth document.

    ``scale`` shrinks the per-type file quotas, ``max_plants`` keeps only the first plants of the
    shuffled list and ``origins`` replaces the trees files come from: all three exist so the tests
    can build a small corpus in seconds."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    rng = random.Random(seed)
    files = sources.sample(rng, scale, origins)
    plants = make_positives(rng) + make_negatives(rng)
    rng.shuffle(plants)
    plants = plants[:max_plants]

    hosts: dict[str, list[insert.Insertion]] = {}
    placed: dict[str, list[tuple[Plant, insert.Insertion]]] = {}
    contents = {item.target: _read_lines(item.source) for item in files if item.type in insert.RENDERERS}
    by_type: dict[str, list[sources.RealFile]] = {}
    for item in files:
        by_type.setdefault(item.type, []).append(item)
    roles = {item.target: ("minified" if item.type == "minjs" else "background") for item in files}
    unplaced = 0
    for plant in plants:
        types = [t for t in sorted(by_type) if insert.accepts(t, plant)]
        for _attempt in range(12):
            file_type = rng.choice(types)
            item = rng.choice(by_type[file_type])
            if len(placed.get(item.target, [])) >= MAX_PLANTS_PER_FILE:
                continue
            taken = {i.at for i in hosts.get(item.target, [])}
            where = insert.place(file_type, contents[item.target], plant, rng, taken)
            if where is None:
                continue
            hosts.setdefault(item.target, []).append(where)
            placed.setdefault(item.target, []).append((plant, where))
            break
        else:
            unplaced += 1

    positives: list[TruthRecord] = []
    negatives: list[TruthRecord] = []
    for item in files:
        target = out / item.target
        target.parent.mkdir(parents=True, exist_ok=True)
        if item.target not in placed:
            shutil.copyfile(item.source, target)
            continue
        lines = list(contents[item.target])
        # Insert from the bottom up so earlier positions stay valid, then compute final lines top-down.
        ordered = sorted(placed[item.target], key=lambda pair: pair[1].at)
        for _, where in reversed(ordered):
            lines[where.at : where.at] = where.lines
        shift = 0
        for plant, where in ordered:
            first = where.at + shift
            record = TruthRecord.of(plant, item.target, first + where.start + 1, first + where.end + 1, where.form)
            (positives if plant.positive else negatives).append(record)
            shift += len(where.lines)
        target.write_text("\n".join(lines), encoding="utf-8")
        roles[item.target] = "background+planted"
    if unplaced:
        raise RuntimeError(f"{unplaced} plants found no place; lower --scale less or add files")
    return {
        "generator": "realworld",
        "generator_version": GENERATOR_VERSION,
        "seed": seed,
        "files": len(files),
        "sources": {item.target: str(item.source) for item in files},
        "file_roles": dict(sorted(roles.items())),
        "positives": [asdict(r) for r in sorted(positives, key=lambda r: (r.file, r.line))],
        "negatives": [asdict(r) for r in sorted(negatives, key=lambda r: (r.file, r.line))],
        "references": {kind.id: kind.ref for kind in providers.KINDS},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="directory to (re)create with the corpus")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the per-type file quotas")
    parser.add_argument("--truth", type=Path, help="where to write truth.json (default: beside OUT)")
    args = parser.parse_args(argv)
    truth = generate(args.out, args.seed, args.scale)
    truth_path = args.truth or args.out.parent / f"{args.out.name}.truth.json"
    truth_path.write_text(json.dumps(truth, indent=1) + "\n", encoding="utf-8")
    positives, negatives = truth["positives"], truth["negatives"]
    assert isinstance(positives, list) and isinstance(negatives, list)
    print(
        f"{args.out}: {truth['files']} files, {len(positives)} inserted secrets, "
        f"{len(negatives)} hard negatives; truth in {truth_path}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
