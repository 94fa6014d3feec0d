"""The scanner: locate possible matches, run rule regexes there, checks and filters, per chunk.

Two engines locate, with the same findings (a differential test holds them to it): the reference
one, an Aho-Corasick automaton over the rules' keywords (`prefilter`), and, where the wheel
installs, Hyperscan over all rule patterns at once (`hyperscan_locator`). ``auto`` starts with the
reference engine, whose set-up is nearly free, and switches to Hyperscan (a database load from the
cache) once a scan has read enough bytes for that to pay off.

`Scanner` is built once per scan and then called per chunk; what it fills in lazily (compiled
patterns, the engines) depends only on the rules, so worker processes can share a forked copy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import regex

from leakvault.errors import UsageError
from leakvault.patterns.loader import REGEX_TIMEOUT_SECONDS
from leakvault.patterns.model import Rule
from leakvault.scanner.config import ScanConfig
from leakvault.scanner.contexts import View, build_view, merge_view_findings
from leakvault.scanner.contexts import prepare as prepare_contexts
from leakvault.scanner.engine.detect import MAX_CANDIDATES_PER_RULE, EngineRule, RegexTimeout, TooManyMatches, detect
from leakvault.scanner.engine.prefilter import KeywordPrefilter, Located
from leakvault.scanner.model import Candidate, Chunk, Finding

if TYPE_CHECKING:
    from leakvault.scanner.engine.hyperscan_locator import HyperscanLocator

ENGINES = ("auto", "hyperscan", "regex")
# ``auto`` moves to Hyperscan once this many bytes went through the reference engine (loading the
# database costs a few milliseconds; the automaton walks about 80 MB/s).
AUTO_HYPERSCAN_AFTER_BYTES = 256 << 10
GENERIC_TAG = "generic"


@dataclass(slots=True)
class ChunkResult:
    findings: list[Finding] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    timeouts: int = 0


def select_rules(builtin: Sequence[Rule], config: ScanConfig) -> list[Rule]:
    """The rules a scan runs: built-ins (unless the config opts out; rules marked ``enabled =
    false``, such as test-mode keys, only when ``enabled_rules`` names them), the config's own rules
    (replacing a built-in of the same id), minus the disabled ones."""
    chosen: dict[str, Rule] = (
        {rule.id: rule for rule in builtin if rule.enabled or rule.id in config.enabled_rules}
        if config.use_default_rules
        else {}
    )
    for rule in config.extra_rules:
        chosen[rule.id] = rule
    return [rule for rule_id, rule in chosen.items() if rule_id not in config.disabled_rules]


# A specific rule's keyword that ends like a token prefix (``ghp_``, ``glpat-``, ``sk.``) names a
# format that rule owns: a generic rule must not report a value in that format which the specific
# rule rejected (a failed checksum, a truncated token, a public ``pk.`` Mapbox token).
PREFIX_ENDINGS = ("_", "-", ".")
MIN_PREFIX_LENGTH = 3


def owned_prefixes(rules: Sequence[Rule]) -> tuple[str, ...]:
    """Lowercase token prefixes claimed by the specific (non-generic) rules."""
    return tuple(
        sorted(
            {
                keyword
                for rule in rules
                if GENERIC_TAG not in rule.tags
                for keyword in rule.keywords
                if keyword.endswith(PREFIX_ENDINGS) and len(keyword) >= MIN_PREFIX_LENGTH and keyword[0].isalnum()
            }
        )
    )


# Findings keep at most this much of their line on either side of the secret (filters look for
# inline markers there, reports show a preview): a minified file's one line can be 100 MB.
LINE_CONTEXT_BYTES = 4096
# Past this, a column is counted as the bytes that start a UTF-8 character, not by decoding.
LONG_PREFIX_BYTES = 1 << 16
_UTF8_CONTINUATION = bytes(range(0x80, 0xC0))


def _line_bounds(data: bytes, offset: int) -> tuple[int, int]:
    start = data.rfind(b"\n", 0, offset) + 1
    end = data.find(b"\n", offset)
    return start, len(data) if end < 0 else end


def _decode_line(data: bytes, start: int, end: int, anchor: int) -> str:
    """The line [start, end), cut to `LINE_CONTEXT_BYTES` either side of ``anchor``."""
    start, end = max(start, anchor - LINE_CONTEXT_BYTES), min(end, anchor + LINE_CONTEXT_BYTES)
    return data[start:end].decode("utf-8", "replace").rstrip("\r")


def _column(data: bytes, line_start: int, offset: int) -> int:
    """1-based character column of ``offset`` on a line starting at ``line_start``."""
    prefix = data[line_start:offset]
    if len(prefix) > LONG_PREFIX_BYTES:
        return len(prefix.translate(None, _UTF8_CONTINUATION)) + 1
    return len(prefix.decode("utf-8", "replace")) + 1


class Scanner:
    """Scans chunks with a fixed rule set and config; ``engine`` is auto, hyperscan or regex;
    ``prefixes`` are the token prefixes whose values generic rules leave alone (default: those of
    the specific rules among ``rules``)."""

    def __init__(
        self,
        rules: Sequence[Rule],
        config: ScanConfig,
        timeout: float = REGEX_TIMEOUT_SECONDS,
        engine: str = "regex",
        prefixes: tuple[str, ...] | None = None,
    ) -> None:
        if engine not in ENGINES:
            raise UsageError(f"unknown engine '{engine}'; choose one of {', '.join(ENGINES)}")
        self.rules: list[EngineRule] = [EngineRule(index, rule) for index, rule in enumerate(rules)]
        self.config = config
        self.timeout = timeout
        self.engine = engine
        self.allow_paths = tuple(regex.compile(p) for p in config.allow_paths)
        self.allow_values = tuple(regex.compile(p) for p in config.allow_values)
        self._by_id = {rule.rule.id: rule for rule in self.rules}
        self._owned_prefixes = owned_prefixes(rules) if prefixes is None else prefixes
        self._prefilter: KeywordPrefilter | None = None
        self._hyperscan: HyperscanLocator | None = None
        self._bytes_seen = 0
        if engine == "hyperscan":
            from leakvault.scanner.engine.hyperscan_locator import hyperscan_available  # optional: hyperscan

            if not hyperscan_available():
                raise UsageError(
                    "the hyperscan engine is not installed here (its wheel exists for x86-64 Linux and macOS); "
                    "use --engine regex or auto"
                )

    @property
    def prefilter(self) -> KeywordPrefilter:
        if self._prefilter is None:
            self._prefilter = KeywordPrefilter(self.rules)
        return self._prefilter

    @property
    def hyperscan(self) -> HyperscanLocator | None:
        """The Hyperscan engine, loaded (or compiled and cached) on first use; None if unavailable."""
        if self._hyperscan is None and self.engine != "regex":
            # Optional (the hyperscan wheel), and its database load is paid only by a large scan.
            from leakvault.scanner.engine.hyperscan_locator import HyperscanLocator, hyperscan_available

            if hyperscan_available():
                self._hyperscan = HyperscanLocator(self.rules, self.prefilter)
            else:
                self.engine = "regex"
        return self._hyperscan

    def engine_for(self, size: int) -> str:
        """The engine that will locate a chunk of ``size`` bytes: hyperscan or regex."""
        if self.engine == "regex":
            return "regex"
        if self.engine == "hyperscan" or self._hyperscan is not None:
            return "hyperscan"
        if self._bytes_seen + size >= AUTO_HYPERSCAN_AFTER_BYTES and self.hyperscan is not None:
            return "hyperscan"
        return "regex"

    def prepare(self, expected_bytes: int) -> None:
        """Build the engine a scan of about ``expected_bytes`` will use before forking workers, so
        they inherit it. Patterns stay lazy: each worker compiles only those its files hit."""
        from leakvault.scanner.engine.match_reach_cache import load_analyses  # large scans only: start-up

        load_analyses(self.rules)  # a large scan meets most rules: read their analyses at once
        prepare_contexts()  # contexts stage: its Hyperscan database, compiled once for all workers
        if self.engine_for(expected_bytes) == "regex":
            _ = self.prefilter

    def locate(self, data: bytes, path: str | None = None) -> Located:
        """The rules that may match ``data``, each with the regions to search (None: all of it).
        With ``path``, the reference engine leaves out rules limited to other paths."""
        locator = self.hyperscan if self.engine_for(len(data)) == "hyperscan" else None
        self._bytes_seen += len(data)
        if locator is not None:
            return locator.locate(data)
        return self.prefilter.locate(data, path)

    def candidates(self, chunk: Chunk, result: ChunkResult) -> list[Candidate]:
        """Locate and detect: every candidate of every located rule, before filters."""
        found: list[Candidate] = []
        located = self.locate(chunk.data, chunk.path)
        text: str | None = None
        for index in sorted(located):
            rule = self.rules[index]
            if text is None and not rule.on_bytes:
                text = chunk.data.decode("latin-1")
            for item in detect(rule, chunk, self.timeout, located[index], text):
                if isinstance(item, RegexTimeout):
                    result.timeouts += 1
                    result.warnings.append(
                        f"{item.path}: rule {item.rule_id} hit its {self.timeout:g}s time bound; "
                        "part of the file was not scanned"
                    )
                elif isinstance(item, TooManyMatches):
                    result.warnings.append(
                        f"{item.path}: rule {item.rule_id} matched over {MAX_CANDIDATES_PER_RULE} times; "
                        "the rest were not reported (a generated file? exclude it in the config)"
                    )
                else:
                    found.append(item)
        return found

    def scan_chunk(self, chunk: Chunk) -> ChunkResult:
        """Candidates, then filters, then one finding per secret. Filters run before overlaps are
        resolved, so a rule whose candidate a filter drops never hides another rule's finding."""
        result = ChunkResult()
        kept: list[tuple[Candidate, Finding]] = []
        for candidate in self.candidates(chunk, result):
            finding = self._to_finding(candidate)
            if finding is not None:
                kept.append((candidate, finding))
        result.findings.extend(_resolve_overlaps(kept, self._by_id, self._owned_prefixes))
        # Contexts stage (scanner/contexts): the same rules over a normalised view of the
        # comments, YAML block scalars and concatenated strings, placed back on the chunk's lines.
        view = build_view(chunk)
        if view is not None:
            found = [
                (c, f) for c in self.candidates(view.chunk, result) if (f := self._to_finding(c, view)) is not None
            ]
            found_in_view = _resolve_overlaps(found, self._by_id, self._owned_prefixes)
            result.findings[:] = merge_view_findings(result.findings, found_in_view, GENERIC_TAG)
        return result

    def _to_finding(self, candidate: Candidate, view: View | None = None) -> Finding | None:
        # Imported on the first candidate: most pre-commit runs have none, and the filters' own
        # patterns cost ~10 ms to compile.
        from leakvault.scanner.filters import FilterContext, drop_reason
        from leakvault.scanner.findings.fingerprint import fingerprint

        data, chunk = candidate.chunk.data, candidate.chunk
        line_start, line_end = _line_bounds(data, candidate.start)
        line = chunk.first_line + data.count(b"\n", 0, candidate.start)
        if chunk.line_filter is not None and line not in chunk.line_filter:
            return None
        end_line_start, end_line_end = _line_bounds(data, max(candidate.end - 1, candidate.start))
        line_text = _decode_line(data, line_start, line_end, candidate.start)
        end_line_text = (
            line_text
            if end_line_start == line_start
            else _decode_line(data, end_line_start, end_line_end, candidate.end)
        )
        rule = self._by_id[candidate.rule_id].compiled
        context = FilterContext(
            candidate, rule, line_text, end_line_text, self.allow_paths, self.allow_values, self.config.stopwords
        )
        if drop_reason(context) is not None:
            return None
        start, end = candidate.start, candidate.end
        if view is not None:  # a view's finding: its place in the chunk the view was made from
            data, (start, end) = view.source.data, view.source_span(start, end)
            line_start = data.rfind(b"\n", 0, start) + 1
            line = chunk.first_line + data.count(b"\n", 0, start)
            if view.source.line_filter is not None and line not in view.source.line_filter:
                return None
        end_line = line + data.count(b"\n", start, end)
        end_text_start = data.rfind(b"\n", 0, end) + 1
        return Finding(
            rule_id=rule.rule.id,
            rule_name=rule.rule.name,
            description=rule.rule.description,
            severity=rule.rule.severity,
            confidence=rule.rule.confidence,
            path=chunk.path,
            line=line,
            column=_column(data, line_start, start),
            end_line=end_line,
            end_column=_column(data, end_text_start, end),
            fingerprint=fingerprint(rule.rule.id, chunk.path, candidate.secret),
            entropy=round(candidate.entropy, 3),
            secret=candidate.secret,
            line_text=line_text,
            commit=chunk.commit,
            location=chunk.location,
            tags=rule.rule.tags,
        )


def _resolve_overlaps(
    kept: list[tuple[Candidate, Finding]], rules: dict[str, EngineRule], prefixes: tuple[str, ...]
) -> list[Finding]:
    """One finding per secret: a specific rule beats a generic one on overlapping text, a generic
    rule never reports a value in a format a specific rule owns, and of several rules matching the
    very same span the first (in rule order) wins."""

    def is_generic(candidate: Candidate) -> bool:
        return GENERIC_TAG in rules[candidate.rule_id].rule.tags

    specific = [candidate for candidate, _ in kept if not is_generic(candidate)]
    findings: list[Finding] = []
    seen_spans: set[tuple[int, int]] = set()
    for candidate, finding in kept:
        span = (candidate.start, candidate.end)
        if span in seen_spans:
            continue
        if is_generic(candidate) and (
            candidate.secret.lower().startswith(prefixes)
            or any(other.start < candidate.end and candidate.start < other.end for other in specific)
        ):
            continue
        seen_spans.add(span)
        findings.append(finding)
    return findings
