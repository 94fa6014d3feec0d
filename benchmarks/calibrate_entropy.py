"""Calibrate the generic rules' entropy thresholds on real, secret-free code.

Method (docs/entropy-calibration.md has the reasoning and the numbers):

1. Scan a large body of code that holds no real secrets (by default this interpreter's standard
   library and the virtualenv's site-packages) with the generic rules only, and keep two pools of
   candidates: those that survive every filter except the per-charset entropy filter (what the
   threshold decides in practice), and those that survive only the value-shape filters
   (placeholders, references, paths, UUIDs, digests...), not the word and name filters: what the
   entropy threshold would have to separate on its own. On this corpus everything a threshold
   lets through is a false positive (or a test fixture that looks like a secret).
2. Generate random secrets of every charset (hex, alphanumeric, base64, printable with
   punctuation) and of lengths 8-64, the shapes generic rules see, and measure how many each
   threshold keeps (recall); likewise for human-style passwords (a pronounceable word, digits,
   sometimes a symbol: "Tobakime2024!"), which are not random but are what people commit.
3. For each charset sweep the threshold's ratio to the expected entropy of a random string of that
   length and charset, and print false positives and recall side by side; the chosen ratios are
   the ones in `leakvault.scanner.filters.ENTROPY_RULES`.

Run it politely on a shared machine::

    nice -n 10 python benchmarks/calibrate_entropy.py --jobs 2 --out /tmp/calibration.json

``--show-findings`` lists every value the current thresholds still report (the review list).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import string
import sys
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass

from leakvault.patterns.loader import load_builtin_rules
from leakvault.patterns.model import Rule
from leakvault.scanner.chunk_scanner import ChunkResult, Scanner, _line_bounds
from leakvault.scanner.config import ScanConfig
from leakvault.scanner.entropy import shannon_entropy
from leakvault.scanner.filters import (
    CHARSET_SIZES,
    DEFAULT_FILTERS,
    ENTROPY_RULES,
    GENERIC_TAG,
    FilterContext,
    charset_of,
    drop_reason,
    expected_random_entropy,
    identifier_value,
    is_assignment,
    low_entropy_for_charset,
    non_secret_name,
    self_named_value,
)
from leakvault.scanner.model import Chunk
from leakvault.scanner.sources.files import FileRef, Skipped, iter_file_chunks, iter_files

DEFAULT_CORPORA = (
    f"{sys.base_prefix}/lib/python{sys.version_info.major}.{sys.version_info.minor}",
    f"{sys.prefix}/lib/python{sys.version_info.major}.{sys.version_info.minor}/site-packages",
)
MAX_FILE_BYTES = 4 << 20
RATIOS = tuple(round(0.50 + 0.05 * step, 2) for step in range(11))  # 0.50 .. 1.00
RANDOM_LENGTHS = range(8, 65)
RANDOM_SAMPLES_PER_LENGTH = 200
ALPHABETS = {
    "hex": "0123456789abcdef",
    "alnum": string.ascii_letters + string.digits,
    "base64": string.ascii_letters + string.digits + "+/",
    "other": string.ascii_letters + string.digits + "!#$%&*+-.:=?@^_~",
}
PRE_ENTROPY_FILTERS = tuple(check for check in DEFAULT_FILTERS if check is not low_entropy_for_charset)
WORD_AND_NAME_FILTERS = (identifier_value, self_named_value, non_secret_name)
SHAPE_FILTERS = tuple(check for check in PRE_ENTROPY_FILTERS if check not in WORD_AND_NAME_FILTERS)


@dataclass(frozen=True, slots=True)
class Survivor:
    """A candidate that only the entropy threshold (strict) or the entropy threshold and the word
    and name filters (not strict) can still drop."""

    rule_id: str
    path: str
    line: int
    value: str
    charset: str
    length: int
    entropy: float
    line_text: str
    strict: bool


@dataclass(slots=True)
class Tally:
    files: int = 0
    bytes: int = 0
    candidates: int = 0
    dropped: Counter[str] | None = None
    survivors: list[Survivor] | None = None
    # Findings of generic rules with a format of their own (URL passwords, JWTs): no entropy gate.
    format_findings: list[Survivor] | None = None


_scanner: Scanner | None = None


def generic_rules() -> list[Rule]:
    return [rule for rule in load_builtin_rules() if GENERIC_TAG in rule.tags]


def _context(scanner: Scanner, chunk: Chunk, candidate: object) -> FilterContext:
    start = candidate.start  # type: ignore[attr-defined]  # a benchmark reaching into the engine's internals and optional tallies
    line_start, line_end = _line_bounds(chunk.data, start)
    line_text = chunk.data[line_start:line_end].decode("utf-8", "replace").rstrip("\r")
    rule = scanner._by_id[candidate.rule_id].compiled  # type: ignore[attr-defined]  # a benchmark reaching into the engine's internals and optional tallies
    return FilterContext(candidate, rule, line_text, line_text, (), (), ())  # type: ignore[arg-type]  # a benchmark reaching into the engine's internals and optional tallies


def scan_batch(paths: Sequence[tuple[str, str]]) -> Tally:
    """Scan files with the generic rules; tally filter reasons and keep entropy-only survivors."""
    scanner = _scanner
    if scanner is None:
        raise RuntimeError("worker started without a scanner")
    tally = Tally(dropped=Counter(), survivors=[], format_findings=[])
    refs = [FileRef(absolute, display) for absolute, display in paths]
    for item in iter_file_chunks(refs, MAX_FILE_BYTES):
        if isinstance(item, Skipped):
            continue
        tally.files += 1
        tally.bytes += len(item.data)
        for candidate in scanner.candidates(item, ChunkResult()):
            tally.candidates += 1
            context = _context(scanner, item, candidate)
            value = candidate.secret
            line = item.first_line + item.data.count(b"\n", 0, candidate.start)

            def survivor(
                strict: bool,
                value: str = value,
                line: int = line,
                path: str = item.path,
                rule_id: str = candidate.rule_id,
                context: FilterContext = context,
            ) -> Survivor:
                return Survivor(
                    rule_id,
                    path,
                    line,
                    value,
                    charset_of(value),
                    len(value),
                    round(shannon_entropy(value), 4),
                    context.line_text.strip()[:200],
                    strict,
                )

            if not is_assignment(context):
                reason = drop_reason(context)
                if reason is None:
                    tally.format_findings.append(survivor(True))  # type: ignore[union-attr]  # a benchmark reaching into the engine's internals and optional tallies
                else:
                    tally.dropped[f"{reason} (format rule)"] += 1  # type: ignore[index]  # a benchmark reaching into the engine's internals and optional tallies
                continue
            reason = drop_reason(context, SHAPE_FILTERS)
            if reason is not None:
                tally.dropped[reason] += 1  # type: ignore[index]  # a benchmark reaching into the engine's internals and optional tallies
                continue
            reason = drop_reason(context, WORD_AND_NAME_FILTERS)
            if reason is not None:
                tally.dropped[reason] += 1  # type: ignore[index]  # a benchmark reaching into the engine's internals and optional tallies
            tally.survivors.append(survivor(reason is None))  # type: ignore[union-attr]  # a benchmark reaching into the engine's internals and optional tallies
    return tally


def batches(corpora: Sequence[str], size: int = 200) -> Iterator[list[tuple[str, str]]]:
    batch: list[tuple[str, str]] = []
    for root in corpora:
        # The interpreter's own site-packages is not the standard library: leave it out.
        for ref in iter_files([root], exclude=["__pycache__/", "*.pyc", "/site-packages/"], cwd=root):
            batch.append((ref.absolute, os.path.relpath(ref.absolute, os.path.dirname(root))))
            if len(batch) >= size:
                yield batch
                batch = []
    if batch:
        yield batch


def scan_corpora(corpora: Sequence[str], jobs: int) -> Tally:
    global _scanner
    _scanner = Scanner(generic_rules(), ScanConfig(), engine="regex")
    total = Tally(dropped=Counter(), survivors=[], format_findings=[])
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        for part in pool.map(scan_batch, batches(corpora)):
            total.files += part.files
            total.bytes += part.bytes
            total.candidates += part.candidates
            total.dropped.update(part.dropped or {})  # type: ignore[union-attr]  # a benchmark reaching into the engine's internals and optional tallies
            total.survivors.extend(part.survivors or [])  # type: ignore[union-attr]  # a benchmark reaching into the engine's internals and optional tallies
            total.format_findings.extend(part.format_findings or [])  # type: ignore[union-attr]  # a benchmark reaching into the engine's internals and optional tallies
    return total


def threshold(value: str, ratio: float, floor: float) -> float:
    return max(floor, ratio * expected_random_entropy(len(value), CHARSET_SIZES[charset_of(value)]))


def passes(value: str, ratio: float, floor: float) -> bool:
    return shannon_entropy(value) >= threshold(value, ratio, floor)


def random_values(charset: str, rng: random.Random) -> list[str]:
    alphabet = ALPHABETS[charset]
    values = []
    for length in RANDOM_LENGTHS:
        for _ in range(RANDOM_SAMPLES_PER_LENGTH):
            value = "".join(rng.choice(alphabet) for _ in range(length))
            if charset_of(value) == charset:  # e.g. an all-hex draw from the alnum alphabet
                values.append(value)
    return values


def human_passwords(rng: random.Random, count: int = 5000) -> list[str]:
    """Passwords as people make them: one or two pronounceable words, a number, maybe a symbol."""
    consonants, vowels = "bcdfghjklmnprstvwz", "aeiou"

    def word() -> str:
        return "".join(rng.choice(consonants) + rng.choice(vowels) for _ in range(rng.randrange(2, 5)))

    values = []
    for _ in range(count):
        text = word().capitalize() + (word() if rng.random() < 0.4 else "")
        text += str(rng.randrange(0, 10 ** rng.randrange(1, 5)))
        if rng.random() < 0.5:
            text += rng.choice("!@#$%&*?.")
        if len(text) >= 8:
            values.append(text)
    return values


def human_recall(rng: random.Random) -> list[dict[str, float]]:
    """Per ratio (the same for every charset): the share of human-style passwords kept."""
    values = human_passwords(rng)
    return [
        {
            "ratio": ratio,
            "recall": sum(passes(value, ratio, ENTROPY_RULES[charset_of(value)][1]) for value in values) / len(values),
        }
        for ratio in RATIOS
    ]


def _kept(values: Sequence[tuple[float, float]], ratio: float, floor: float) -> int:
    """How many (entropy, expected random entropy) pairs reach the threshold."""
    return sum(entropy >= max(floor, ratio * expected) for entropy, expected in values)


def sweep(survivors: Sequence[Survivor], rng: random.Random) -> dict[str, list[dict[str, float]]]:
    """Per charset and ratio: false positives on the corpus (strict pool, and the shape-only pool
    without the word and name filters), recall on random values (all lengths, and 16+)."""
    table: dict[str, list[dict[str, float]]] = {}
    for charset in ALPHABETS:
        floor = ENTROPY_RULES[charset][1]
        size = CHARSET_SIZES[charset]

        def measured(values: Sequence[str], size: int = size) -> list[tuple[float, float]]:
            return [(shannon_entropy(value), expected_random_entropy(len(value), size)) for value in values]

        strict = measured([s.value for s in survivors if s.charset == charset and s.strict])
        shape_only = measured([s.value for s in survivors if s.charset == charset])
        randoms = random_values(charset, rng)
        everything = measured(randoms)
        long_ones = measured([value for value in randoms if len(value) >= 16])
        table[charset] = [
            {
                "ratio": ratio,
                "false_positives": _kept(strict, ratio, floor),
                "false_positives_shape_only": _kept(shape_only, ratio, floor),
                "recall": _kept(everything, ratio, floor) / len(everything),
                "recall_16_plus": _kept(long_ones, ratio, floor) / len(long_ones),
            }
            for ratio in RATIOS
        ]
    return table


def end_to_end_recall(rng: random.Random, per_charset: int = 2000) -> dict[str, float]:
    """Random secrets (lengths 8-64) and human-style passwords in ``db_password = "..."`` lines,
    scanned with every generic rule and every filter: the share reported, per kind of value."""
    scanner = Scanner(generic_rules(), ScanConfig(), engine="regex")
    kinds = {charset: [value for value in random_values(charset, rng) if len(value) >= 8] for charset in ALPHABETS}
    kinds = {charset: rng.sample(values, min(per_charset, len(values))) for charset, values in kinds.items()}
    kinds["human"] = human_passwords(rng, per_charset)
    recall = {}
    for kind, values in kinds.items():
        found = 0
        for value in values:
            quote = "'" if '"' in value else '"'
            chunk = Chunk(path="settings.py", data=f"db_password = {quote}{value}{quote}\n".encode())
            found += any(f.secret == value for f in scanner.scan_chunk(chunk).findings)
        recall[kind] = found / len(values)
    return recall


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpora", nargs="*", default=list(DEFAULT_CORPORA))
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", help="write the survivors and the sweep as JSON here")
    parser.add_argument("--show-findings", action="store_true", help="print every value the current thresholds report")
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--from-json", help="reuse the survivors of an earlier --out instead of scanning")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    if args.from_json:
        with open(args.from_json, encoding="utf-8") as handle:
            saved = json.load(handle)
        tally = Tally(
            saved["files"],
            saved["bytes"],
            saved["candidates"],
            Counter(saved["dropped"]),
            [Survivor(**item) for item in saved["survivors"]],
            [Survivor(**item) for item in saved.get("format_findings", [])],
        )
    else:
        tally = scan_corpora(args.corpora, args.jobs)
    elapsed = time.perf_counter() - started
    everything = tally.survivors or []
    survivors = [s for s in everything if s.strict]
    reported = [s for s in survivors if passes(s.value, *ENTROPY_RULES[s.charset])]
    megabytes = tally.bytes / 1e6
    print(f"corpus: {', '.join(args.corpora)}")
    print(f"{tally.files} files, {megabytes:.1f} MB scanned in {elapsed:.0f} s")
    print(f"{tally.candidates} generic candidates before filters")
    for reason, count in (tally.dropped or Counter()).most_common():
        print(f"  dropped {count:6d}  {reason}")
    print(f"shape-only pool (no word/name filters): {len(everything)}; entropy-gated pool: {len(survivors)}")
    formats = tally.format_findings or []
    print(
        f"reported with the chosen thresholds: {len(reported)} ({len(reported) / megabytes:.3f} per MB),"
        f" plus {len(formats)} from generic rules with a format of their own (URL passwords, JWTs)"
    )
    by_charset = Counter(s.charset for s in survivors)
    by_charset_shape = Counter(s.charset for s in everything)
    by_charset_reported = Counter(s.charset for s in reported)
    for charset in ALPHABETS:
        print(
            f"  {charset:7s} shape-only {by_charset_shape[charset]:5d}  gated {by_charset[charset]:5d}"
            f"  reported {by_charset_reported[charset]:4d}"
        )

    table = sweep(everything, random.Random(args.seed))
    print("\ncharset  ratio  FP(gated)  FP(shape-only)  recall(8-64)  recall(16-64)")
    for charset, rows in table.items():
        chosen = ENTROPY_RULES[charset][0]
        for row in rows:
            mark = "  <- chosen" if abs(row["ratio"] - chosen) < 1e-9 else ""
            print(
                f"{charset:7s}  {row['ratio']:.2f}  {row['false_positives']:9.0f}  "
                f"{row['false_positives_shape_only']:14.0f}  {row['recall']:12.4f}  "
                f"{row['recall_16_plus']:13.4f}{mark}"
            )
    print("\nratio  recall on human-style passwords (same ratio for every charset)")
    chosen_ratios = {ratio for ratio, _ in ENTROPY_RULES.values()}
    for row in human_recall(random.Random(args.seed)):
        mark = "  <- a chosen ratio" if row["ratio"] in chosen_ratios else ""
        print(f"{row['ratio']:.2f}   {row['recall']:.4f}{mark}")
    print('\nend to end (db_password = "<value>", every generic rule and filter): share reported')
    for kind, share in end_to_end_recall(random.Random(args.seed)).items():
        print(f"  {kind:7s} {share:.4f}")
    if args.show_findings:
        print("\nreported values (review list):")
        for s in sorted([*reported, *formats], key=lambda s: (s.rule_id, s.path, s.line)):
            print(f"{s.rule_id}\t{s.path}:{s.line}\t{s.charset}\t{s.entropy:.2f}\t{s.line_text}")
    if args.out:
        with open(args.out, "w", encoding="utf-8") as handle:
            json.dump(
                {
                    "files": tally.files,
                    "bytes": tally.bytes,
                    "candidates": tally.candidates,
                    "dropped": dict(tally.dropped or {}),
                    "sweep": table,
                    "survivors": [asdict(s) for s in everything],
                    "format_findings": [asdict(s) for s in formats],
                },
                handle,
                indent=1,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
