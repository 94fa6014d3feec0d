"""Build the accuracy corpus: a realistic repository with planted secrets, hard negatives and real
secret-free code, plus ``truth.json`` saying where every planted value is.

    python -m benchmarks.accuracy.generate OUT_DIR [--seed N] [--background N]

The same seed on the same machine gives the same corpus, byte for byte. ``truth.json`` sits beside
the corpus directory (``OUT_DIR.truth.json`` by default) so that scanners never
read it.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path

from benchmarks.accuracy import background, credfiles, idioms, negatives, tokens
from benchmarks.accuracy.contexts import CONTEXTS, CONTEXTS_BY_ID, Context, accepts, py_render
from benchmarks.accuracy.fillers import SERVICES
from benchmarks.accuracy.model import Plant, Rendered, TruthRecord

GENERATOR_VERSION = 2  # 2: the idioms of issue 14 (SQL, kubeconfig, notebook outputs, ...)
DEFAULT_SEED = 20240611
DEFAULT_BACKGROUND = 2600
HOME_SHARE = 0.35  # of the kinds that have a natural credential file, how many go there
BACKGROUND_INSERTS = 30  # positives placed inside copied real Python files


@dataclass
class Corpus:
    """What the generator produced, for the truth file."""

    positives: list[TruthRecord] = field(default_factory=list)
    negatives: list[TruthRecord] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)  # path -> "planted" | "negative" | "background"


def make_positives(rng: random.Random) -> list[Plant]:
    plants = []
    for kind in tokens.KINDS:
        for _ in range(kind.count):
            block: tuple[str, ...] = ()
            value = kind.make(rng)
            if kind.id == "gcp-service-account":
                block = tuple(tokens.gcp_service_account(rng))
                value = "\n".join(block)
            plants.append(
                Plant(
                    kind=kind.id,
                    family=kind.family,
                    value=value,
                    name=rng.choice(kind.names),
                    positive=True,
                    needs_name=kind.needs_name,
                    multiline=kind.multiline and not block,
                    url=kind.url,
                    block=block,
                )
            )
    return plants


def group_plants(plants: list[Plant], rng: random.Random) -> list[list[Plant]]:
    """Plants that belong together (an AWS key id and its secret) share a group; others stand alone."""
    ids = [p for p in plants if p.kind == "aws-access-key-id"]
    secrets = [p for p in plants if p.kind == "aws-secret-access-key"]
    paired = set()
    groups: list[list[Plant]] = []
    for key_id, secret in zip(ids, secrets, strict=False):
        groups.append([key_id, secret])
        paired.update({id(key_id), id(secret)})
    groups += [[p] for p in plants if id(p) not in paired]
    rng.shuffle(groups)
    return groups


class PathMaker:
    """Unique, realistic paths from a context's templates."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()

    def make(self, templates: tuple[str, ...] | str) -> str:
        choices = (templates,) if isinstance(templates, str) else templates
        for attempt in range(60):
            path = self.rng.choice(choices).format(svc=self.rng.choice(SERVICES), n=attempt)
            if attempt >= 20:
                head, _, tail = path.rpartition("/")
                path = f"{head}/v{attempt}/{tail}" if head else f"v{attempt}/{tail}"
            if path not in self.used:
                self.used.add(path)
                return path
        raise RuntimeError(f"no free path for {choices}")


def _write(root: Path, relative: str, lines: list[str]) -> None:
    target = root / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _record(corpus: Corpus, plant: Plant, path: str, first: int, rendered: Rendered, context: str) -> None:
    record = TruthRecord.of(plant, path, first + rendered.start + 1, first + rendered.end + 1, context)
    (corpus.positives if plant.positive else corpus.negatives).append(record)


def assemble(
    parts: list[Rendered | str | list[str]], plants: list[Plant | None]
) -> tuple[list[str], list[tuple[Plant, int, Rendered]]]:
    """Concatenate parts; for each Rendered part (paired in order with ``plants``) note its first line."""
    lines: list[str] = []
    placed: list[tuple[Plant, int, Rendered]] = []
    queue = iter(plants)
    for part in parts:
        if isinstance(part, Rendered):
            plant = next(queue)
            assert plant is not None
            placed.append((plant, len(lines), part))
            lines.extend(part.lines)
        elif isinstance(part, str):
            lines.append(part)
        else:
            lines.extend(part)
    return lines, placed


def write_context_file(
    root: Path, corpus: Corpus, paths: PathMaker, context: Context, groups: list[list[Plant]], rng: random.Random
) -> None:
    path = paths.make(context.paths)
    parts: list[Rendered | str | list[str]] = [context.header(rng)]
    order: list[Plant | None] = []
    for group in groups:
        if rng.random() < 0.6:
            parts.append(context.filler(rng))
        for plant in group:
            parts.append(context.render(plant, rng))
            order.append(plant)
    if rng.random() < 0.5:
        parts.append(context.filler(rng))
    parts.append(context.footer(rng))
    lines, placed = assemble(parts, order)
    _write(root, path, lines)
    corpus.files[path] = "planted"
    for plant, first, rendered in placed:
        _record(corpus, plant, path, first, rendered, context.id)


def _home_of(group: list[Plant]) -> credfiles.Builder | None:
    homes = {credfiles.HOMES.get(plant.kind) for plant in group}
    if len(homes) == 1:
        return homes.pop()
    return None


def place_groups(root: Path, corpus: Corpus, paths: PathMaker, groups: list[list[Plant]], rng: random.Random) -> None:
    by_context: dict[str, list[list[Plant]]] = defaultdict(list)
    by_home: dict[credfiles.Builder, list[list[Plant]]] = defaultdict(list)
    for group in groups:
        home = _home_of(group)
        if home is not None and (group[0].kind == "docker-config-auth" or rng.random() < HOME_SHARE):
            by_home[home].append(group)
            continue
        fitting = [c for c in CONTEXTS if all(accepts(c, plant) for plant in group)]
        # Files made for one kind (PEM files, key files) take the lion's share of what they accept.
        special = [c for c in fitting if c.only]
        context = special[0] if special and rng.random() < 0.5 else rng.choice(fitting)
        by_context[context.id].append(group)
    for context_id, context_groups in sorted(by_context.items()):
        context = CONTEXTS_BY_ID[context_id]
        index = 0
        while index < len(context_groups):
            take = rng.randint(1, context.per_file)
            write_context_file(root, corpus, paths, context, context_groups[index : index + take], rng)
            index += take
    for builder, home_groups in sorted(by_home.items(), key=lambda item: item[0].__name__):
        for n, start in enumerate(range(0, len(home_groups), 2)):
            chunk = [plant for group in home_groups[start : start + 2] for plant in group]
            path, parts = builder(chunk, rng, n)
            paths.used.add(path)
            lines, placed = assemble(list(parts), list(chunk))
            _write(root, path, lines)
            corpus.files[path] = "planted"
            for plant, first, rendered in placed:
                _record(corpus, plant, path, first, rendered, "credential-file:" + builder.__name__)


def write_negative_files(root: Path, corpus: Corpus, rng: random.Random) -> None:
    for make in negatives.NEGATIVE_FILES:
        path, lines, marks = make(rng)
        _write(root, path, lines)
        corpus.files[path] = "negative"
        for index, kind in marks:
            corpus.negatives.append(
                TruthRecord(path, index + 1, index + 1, "neg:" + kind, "negative", "file:" + make.__name__, "")
            )


def write_idiom_files(root: Path, corpus: Corpus, paths: PathMaker, rng: random.Random) -> None:
    """Whole files in the idioms of `idioms.IDIOMS`; their plants are recorded as ``idiom:<name>``."""
    for build, count in idioms.IDIOMS:
        for n in range(count):
            path, parts, plants = build(rng, n)
            if path in paths.used:
                raise RuntimeError(f"idiom {build.__name__} reuses {path}")
            paths.used.add(path)
            lines, placed = assemble(parts, list(plants))
            _write(root, path, lines)
            corpus.files[path] = "planted"
            for plant, first, rendered in placed:
                _record(corpus, plant, path, first, rendered, "idiom:" + build.__name__)


def copy_background(root: Path, corpus: Corpus, rng: random.Random, count: int) -> list[str]:
    chosen = background.sample(rng, count)
    for item in chosen:
        target = root / item.target
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(item.source, target)
        corpus.files[item.target] = "background"
    return [item.target for item in chosen]


def insert_into_background(
    root: Path, corpus: Corpus, plants: list[Plant], python_files: list[str], rng: random.Random
) -> None:
    """Put secrets inside real code: after the imports of a copied standard-library module."""
    for plant, path in zip(plants, rng.sample(python_files, len(plants)), strict=True):
        file = root / path
        lines = file.read_text(encoding="utf-8", errors="replace").splitlines()
        imports = [i for i, line in enumerate(lines[:200]) if line.startswith(("import ", "from "))]
        at = imports[-1] + 1 if imports else 0
        rendered = py_render(plant, rng)
        lines[at:at] = ["", *rendered.lines]
        file.write_text("\n".join(lines) + "\n", encoding="utf-8")
        corpus.files[path] = "background+planted"
        _record(corpus, plant, path, at + 1, rendered, "python-in-real-code")
        # Records of later lines in this file shift; background files carry no other truth.


def generate(out: Path, seed: int = DEFAULT_SEED, background_count: int = DEFAULT_BACKGROUND) -> dict[str, object]:
    """Write the corpus into ``out`` (emptied first) and return the truth document."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    rng = random.Random(seed)
    corpus = Corpus()
    paths = PathMaker(rng)

    positives = make_positives(rng)
    inline_negatives = negatives.negative_plants(rng)
    copied = copy_background(out, corpus, rng, background_count)
    python_files = [p for p in copied if p.endswith(".py")]
    simple = [p for p in positives if not p.multiline and not p.block and p.kind not in credfiles.HOMES]
    rng.shuffle(simple)
    for_background = simple[: min(BACKGROUND_INSERTS, len(python_files))]
    chosen_ids = {id(p) for p in for_background}
    rest = [p for p in positives if id(p) not in chosen_ids]

    place_groups(out, corpus, paths, group_plants(rest, rng) + [[p] for p in inline_negatives], rng)
    write_negative_files(out, corpus, rng)
    insert_into_background(out, corpus, for_background, python_files, rng)
    # A stream of its own, so that adding idioms left every other file of the corpus unchanged.
    write_idiom_files(out, corpus, paths, random.Random(f"{seed}:idioms"))

    truth: dict[str, object] = {
        "generator_version": GENERATOR_VERSION,
        "seed": seed,
        "files": len(corpus.files),
        "file_roles": dict(sorted(corpus.files.items())),
        "positives": [asdict(r) for r in sorted(corpus.positives, key=lambda r: (r.file, r.line))],
        "negatives": [asdict(r) for r in sorted(corpus.negatives, key=lambda r: (r.file, r.line))],
    }
    return truth


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="directory to (re)create with the corpus")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--background", type=int, default=DEFAULT_BACKGROUND, help="real files to copy in")
    parser.add_argument("--truth", type=Path, help="where to write truth.json (default: beside OUT)")
    args = parser.parse_args(argv)
    truth = generate(args.out, args.seed, args.background)
    truth_path = args.truth or args.out.parent / f"{args.out.name}.truth.json"
    truth_path.write_text(json.dumps(truth, indent=1) + "\n", encoding="utf-8")
    print(
        f"{args.out}: {truth['files']} files, {len(truth['positives'])} planted secrets, "  # type: ignore[arg-type]  # options and truth are loose dicts in this script
        f"{len(truth['negatives'])} hard negatives; truth in {truth_path}",
        file=sys.stderr,
    )  # type: ignore[arg-type]  # options and truth are loose dicts in this script
    return 0


if __name__ == "__main__":
    sys.exit(main())
