"""What the contexts stage costs: CPU time of a scan of a tree with the stage and without it.

    python benchmarks/bench_contexts.py [TREE]     # default: this Python's standard library

The tree's files are read and expanded once (as the scanner's sources do), then scanned in this
process, alternately with and without the stage, with each engine; CPU time (process time, one
process) leaves the machine's other load out as far as it can. The stage is switched off by
replacing the engine's `build_view` with one that never builds a view (benchmark only). Also
printed: the time of `build_view` alone and how many chunks got a view.
"""

from __future__ import annotations

import argparse
import statistics
import sysconfig
import time

from leakvault.scanner import chunk_scanner as engine_module
from leakvault.scanner.config import ScanConfig
from leakvault.scanner.contexts import View, build_view
from leakvault.scanner.engine.hyperscan_locator import hyperscan_available
from leakvault.scanner.model import Chunk
from leakvault.scanner.pipeline import build_scanner
from leakvault.scanner.sources.files import iter_file_chunks, iter_files


def _no_view(chunk: Chunk) -> View | None:
    return None


def _view_time(chunks: list[Chunk]) -> float:
    start = time.process_time()
    for chunk in chunks:
        build_view(chunk)
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("tree", nargs="?", default=sysconfig.get_paths()["stdlib"])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    config = ScanConfig()
    refs = list(iter_files([args.tree], config.exclude))
    chunks = [item for item in iter_file_chunks(refs, config.max_file_size) if isinstance(item, Chunk)]
    size = sum(len(chunk.data) for chunk in chunks)
    print(f"{args.tree}: {len(refs)} files, {len(chunks)} chunks, {size / 1e6:.1f} MB")
    views = sum(1 for chunk in chunks if build_view(chunk) is not None)
    alone = [_view_time(chunks) for _ in range(args.rounds)]
    print(f"build_view alone: {statistics.median(alone):.2f} s CPU; {views} chunks get a view")
    for engine in ["hyperscan", "regex"] if hyperscan_available() else ["regex"]:
        scanner = build_scanner(config, engine=engine)
        for chunk in chunks[:100]:  # warm: compiled patterns, the database
            scanner.scan_chunk(chunk)
        timings: dict[str, list[float]] = {"with the stage": [], "without": []}
        findings: dict[str, int] = {}
        for _ in range(args.rounds):
            for label, builder in (("with the stage", build_view), ("without", _no_view)):
                vars(engine_module)["build_view"] = builder  # benchmark only: the hook's one name
                start = time.process_time()
                findings[label] = sum(len(scanner.scan_chunk(chunk).findings) for chunk in chunks)
                timings[label].append(time.process_time() - start)
        vars(engine_module)["build_view"] = build_view
        with_stage, without = (statistics.median(timings[label]) for label in ("with the stage", "without"))
        print(
            f"{engine:9} with the stage {with_stage:.2f} s, without {without:.2f} s CPU "
            f"(+{(with_stage / without - 1) * 100:.0f}%); findings {findings['with the stage']} / {findings['without']}"
        )


if __name__ == "__main__":
    main()
