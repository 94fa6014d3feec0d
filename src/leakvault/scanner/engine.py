"""The reference engine: keyword prefilter, then rule regexes, checks and filters, per chunk.

`Scanner` is built once per scan (rules compiled, automaton made) and then called per chunk; it
holds no per-chunk state, so worker processes can share one forked copy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import regex

from leakvault.patterns.loader import REGEX_TIMEOUT_SECONDS, CompiledRule, compile_rule
from leakvault.patterns.model import Rule
from leakvault.scanner.config import ScanConfig
from leakvault.scanner.detect import RegexTimeout, detect
from leakvault.scanner.filters import FilterContext, drop_reason
from leakvault.scanner.fingerprint import fingerprint
from leakvault.scanner.model import Candidate, Chunk, Finding
from leakvault.scanner.prefilter import KeywordPrefilter

GENERIC_TAG = "generic"


@dataclass(slots=True)
class ChunkResult:
    findings: list[Finding] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    timeouts: int = 0


def select_rules(builtin: Sequence[Rule], config: ScanConfig) -> list[Rule]:
    """The rules a scan runs: built-ins (unless the config opts out), the config's own rules
    (replacing a built-in of the same id), minus the disabled ones."""
    chosen: dict[str, Rule] = {rule.id: rule for rule in builtin} if config.use_default_rules else {}
    for rule in config.extra_rules:
        chosen[rule.id] = rule
    return [rule for rule_id, rule in chosen.items() if rule_id not in config.disabled_rules]


def _line_bounds(data: bytes, offset: int) -> tuple[int, int]:
    start = data.rfind(b"\n", 0, offset) + 1
    end = data.find(b"\n", offset)
    return start, len(data) if end < 0 else end


def _decode_line(data: bytes, start: int, end: int) -> str:
    return data[start:end].decode("utf-8", "replace").rstrip("\r")


class Scanner:
    """Scans chunks with a fixed rule set and config."""

    def __init__(self, rules: Sequence[Rule], config: ScanConfig, timeout: float = REGEX_TIMEOUT_SECONDS) -> None:
        self.rules: list[CompiledRule] = [compile_rule(rule) for rule in rules]
        self.config = config
        self.timeout = timeout
        self.prefilter = KeywordPrefilter([rule.keywords for rule in rules])
        self.allow_paths = tuple(regex.compile(p) for p in config.allow_paths)
        self.allow_values = tuple(regex.compile(p) for p in config.allow_values)
        self._by_id = {compiled.rule.id: compiled for compiled in self.rules}

    def candidates(self, chunk: Chunk, result: ChunkResult) -> list[Candidate]:
        """Prefilter and detect: every candidate of every selected rule, before filters."""
        text = chunk.data.decode("latin-1")
        found: list[Candidate] = []
        for index in sorted(self.prefilter.rules_hit(text.lower())):
            for item in detect(self.rules[index], chunk, text, self.timeout):
                if isinstance(item, RegexTimeout):
                    result.timeouts += 1
                    result.warnings.append(
                        f"{item.path}: rule {item.rule_id} hit its {self.timeout:g}s time bound;"
                        " part of the file was not scanned"
                    )
                else:
                    found.append(item)
        return _resolve_overlaps(found, self._by_id)

    def scan_chunk(self, chunk: Chunk) -> ChunkResult:
        result = ChunkResult()
        for candidate in self.candidates(chunk, result):
            finding = self._to_finding(candidate)
            if finding is not None:
                result.findings.append(finding)
        return result

    def _to_finding(self, candidate: Candidate) -> Finding | None:
        data, chunk = candidate.chunk.data, candidate.chunk
        line_start, line_end = _line_bounds(data, candidate.start)
        line = chunk.first_line + data.count(b"\n", 0, candidate.start)
        if chunk.line_filter is not None and line not in chunk.line_filter:
            return None
        end_line_start, end_line_end = _line_bounds(data, max(candidate.end - 1, candidate.start))
        line_text = _decode_line(data, line_start, line_end)
        end_line_text = line_text if end_line_start == line_start else _decode_line(data, end_line_start, end_line_end)
        rule = self._by_id[candidate.rule_id]
        context = FilterContext(
            candidate, rule, line_text, end_line_text, self.allow_paths, self.allow_values, self.config.stopwords
        )
        if drop_reason(context) is not None:
            return None
        end_line = line + data.count(b"\n", candidate.start, candidate.end)
        end_text_start = data.rfind(b"\n", 0, candidate.end) + 1
        return Finding(
            rule_id=rule.rule.id,
            rule_name=rule.rule.name,
            description=rule.rule.description,
            severity=rule.rule.severity,
            confidence=rule.rule.confidence,
            path=chunk.path,
            line=line,
            column=len(data[line_start : candidate.start].decode("utf-8", "replace")) + 1,
            end_line=end_line,
            end_column=len(data[end_text_start : candidate.end].decode("utf-8", "replace")) + 1,
            fingerprint=fingerprint(rule.rule.id, chunk.path, candidate.secret),
            entropy=round(candidate.entropy, 3),
            secret=candidate.secret,
            line_text=line_text,
            commit=chunk.commit,
            location=chunk.location,
            tags=rule.rule.tags,
        )


def _resolve_overlaps(candidates: list[Candidate], rules: dict[str, CompiledRule]) -> list[Candidate]:
    """One finding per secret: a specific rule beats a generic one on overlapping text, and of
    several rules matching the very same span the first (in rule order) wins."""
    if len(candidates) < 2:
        return candidates
    specific = [c for c in candidates if GENERIC_TAG not in rules[c.rule_id].rule.tags]
    kept: list[Candidate] = []
    seen_spans: set[tuple[int, int]] = set()
    for candidate in candidates:
        span = (candidate.start, candidate.end)
        if span in seen_spans:
            continue
        if GENERIC_TAG in rules[candidate.rule_id].rule.tags and any(
            other.start < candidate.end and candidate.start < other.end for other in specific
        ):
            continue
        seen_spans.add(span)
        kept.append(candidate)
    return kept
