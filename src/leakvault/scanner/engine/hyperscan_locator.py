"""The Hyperscan engine: every rule's pattern and every keyword in one database, one pass per chunk.

Hyperscan reports where matches of each rule's (translated, see `hyperscan_translate`) pattern end; a rule
with bounded matches then runs its `regex` only in the window before each end, an unbounded one
over the chunk, and only if one of its keywords occurs too, exactly as in the reference engine. A
rule whose pattern Hyperscan cannot take falls back to the reference path: its keywords (which are
in the database as literals) decide whether its regex runs over the chunk.

Compiling the database costs a few hundred milliseconds, so it is serialized into the on-disk
cache (`engine.disk_cache`), keyed by the rules, the translator and the Hyperscan version.
"""

from __future__ import annotations

import json
import platform
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from leakvault.patterns.model import Rule
from leakvault.scanner.engine.detect import EngineRule, Region
from leakvault.scanner.engine.disk_cache import content_key, read_entry, write_entry
from leakvault.scanner.engine.hyperscan_translate import to_hyperscan
from leakvault.scanner.engine.prefilter import MAX_HITS, MAX_REGIONS, KeywordPrefilter, Located

# Bump when the translation or the database layout changes, so old cache entries miss.
PLAN_VERSION = "4"
_HEADER_BYTES = 8


def hyperscan_available() -> bool:
    """Whether the `hyperscan` wheel imports here (x86-64 Linux and macOS)."""
    try:
        import hyperscan  # noqa: F401
    except ImportError:
        return False
    return True


@dataclass(frozen=True, slots=True)
class _Plan:
    """What goes into the database: rule patterns (id = rule index), then keywords (id = n + k)."""

    patterns: tuple[tuple[int, bytes, bool], ...]  # (rule index, expression, bounded)
    keywords: tuple[bytes, ...]
    keyword_owners: tuple[tuple[int, ...], ...]
    fallbacks: frozenset[int]  # rule indices that run on keyword hits alone


def _literal(keyword: str) -> bytes:
    """A keyword as a Hyperscan expression matching it literally."""
    return b"".join(bytes([byte]) if chr(byte).isalnum() else b"\\x%02x" % byte for byte in keyword.encode("utf-8"))


def _plan(rules: Sequence[EngineRule], refused: frozenset[int] = frozenset()) -> _Plan:
    owners: dict[str, list[int]] = {}
    for rule in rules:
        for keyword in rule.rule.keywords:
            owners.setdefault(keyword, []).append(rule.index)
    patterns: list[tuple[int, bytes, bool]] = []
    fallbacks: set[int] = set()
    for rule in rules:
        expression = None if rule.index in refused else to_hyperscan(rule.rule.regex)
        if expression is None:
            fallbacks.add(rule.index)
        else:
            patterns.append((rule.index, expression, rule.reach is not None))  # windowed: report every end
    return _Plan(
        patterns=tuple(patterns),
        keywords=tuple(_literal(keyword) for keyword in owners),
        keyword_owners=tuple(tuple(indices) for indices in owners.values()),
        fallbacks=frozenset(fallbacks),
    )


def _compile(hs: Any, plan: _Plan, count: int) -> Any:
    """The block-mode database: every end of windowed rules, one report for the others."""
    single = hs.HS_FLAG_SINGLEMATCH
    expressions = [expression for _, expression, _ in plan.patterns] + list(plan.keywords)
    ids = [index for index, _, _ in plan.patterns] + [count + k for k in range(len(plan.keywords))]
    flags = [0 if bounded else single for _, _, bounded in plan.patterns]
    flags += [single | hs.HS_FLAG_CASELESS] * len(plan.keywords)
    database = hs.Database(mode=hs.HS_MODE_BLOCK)
    database.compile(expressions=expressions, ids=ids, flags=flags)
    return database


def _refused_patterns(hs: Any, plan: _Plan) -> frozenset[int]:
    """Rules whose translated pattern Hyperscan still rejects (empty matches, size limits...)."""
    refused = set()
    for index, expression, _ in plan.patterns:
        try:
            hs.Database(mode=hs.HS_MODE_BLOCK).compile(expressions=[expression], ids=[0], flags=[0])
        except hs.error:
            refused.add(index)
    return frozenset(refused)


def _cache_key(hs: Any, rules: Sequence[EngineRule]) -> str:
    parts: list[str] = [PLAN_VERSION, hs.__version__, platform.machine()]
    for rule in rules:
        parts.extend((rule.rule.regex, "\0".join(rule.rule.keywords)))
    return content_key(parts)


def _pack(header: dict[str, Any], blobs: Sequence[bytes]) -> bytes:
    head = json.dumps(header).encode()
    out = [len(head).to_bytes(_HEADER_BYTES, "little"), head]
    for blob in blobs:
        out.extend((len(blob).to_bytes(_HEADER_BYTES, "little"), blob))
    return b"".join(out)


def _unpack(data: bytes) -> tuple[dict[str, Any], list[bytes]]:
    parts: list[bytes] = []
    position = 0
    while position < len(data):
        size = int.from_bytes(data[position : position + _HEADER_BYTES], "little")
        position += _HEADER_BYTES
        if position + size > len(data):
            raise ValueError("truncated cache entry")
        parts.append(data[position : position + size])
        position += size
    if len(parts) != 2:
        raise ValueError("malformed cache entry")
    header = json.loads(parts[0])
    if not isinstance(header, dict):
        raise ValueError("malformed cache entry")
    return header, parts[1:]


class HyperscanLocator:
    """Maps a chunk's bytes to the rules that may match it and the regions to search."""

    def __init__(self, rules: Sequence[EngineRule], reference: KeywordPrefilter) -> None:
        import hyperscan  # optional: its wheel exists for x86-64 Linux and macOS only

        self._reference = reference  # locates chunks with a flood of match ends
        self._anchors: KeywordPrefilter | None = None

        self._hs = hyperscan
        self._rules = list(rules)
        self._count = len(rules)
        key = _cache_key(hyperscan, rules)
        name = f"hyperscan-{key}.db"
        loaded = self._load(read_entry(name))
        if loaded is None:
            plan = _plan(rules)
            try:
                database = _compile(hyperscan, plan, self._count)
            except hyperscan.error:  # some translated pattern is still refused: find it, leave it out
                plan = _plan(rules, _refused_patterns(hyperscan, plan))
                database = _compile(hyperscan, plan, self._count)
            self._set(plan, database)
            header = {
                "fallbacks": sorted(plan.fallbacks),
                "bounded": [index for index, _, bounded in plan.patterns if bounded],
                "keyword_owners": [list(owners) for owners in plan.keyword_owners],
            }
            write_entry(name, _pack(header, [hyperscan.dumpb(database)]))

    def _set(self, plan: _Plan, database: Any) -> None:
        self.fallbacks = plan.fallbacks
        self._bounded = frozenset(index for index, _, bounded in plan.patterns if bounded)
        self._keyword_owners = plan.keyword_owners
        self._keywordless = tuple(rule.index for rule in self._rules if not rule.rule.keywords)
        self._database = database
        database.scratch = self._hs.Scratch(database)

    def _load(self, entry: bytes | None) -> bool | None:
        if entry is None:
            return None
        hs = self._hs
        try:
            header, (blob,) = _unpack(entry)
            database = hs.loadb(blob, hs.HS_MODE_BLOCK)
            plan = _Plan(
                patterns=tuple((index, b"", True) for index in header["bounded"]),
                keywords=(),
                keyword_owners=tuple(tuple(owners) for owners in header["keyword_owners"]),
                fallbacks=frozenset(header["fallbacks"]),
            )
        except (ValueError, KeyError, TypeError, hs.error):
            return None  # stale, damaged or from another Hyperscan build: compile afresh
        self._set(plan, database)
        return True

    def _anchor_prefilter(self) -> KeywordPrefilter:
        """An automaton over the keywords of the rules that may need anchor regions (those not
        windowed by match ends): fewer keywords, fewer hits to sort than the full prefilter."""
        if self._anchors is None:
            self._anchors = KeywordPrefilter([rule for rule in self._rules if rule.index not in self._bounded])
        return self._anchors

    @property
    def fallback_rule_ids(self) -> frozenset[str]:
        return frozenset(self._rules[index].rule.id for index in self.fallbacks)

    def locate(self, data: bytes) -> Located:
        """Rules that may match ``data`` (pattern and keyword both hit), with regions to search."""
        count = self._count
        ends: dict[int, list[int]] = {}
        hit: set[int] = set()  # rules reported once (not windowed), and keyword ids
        total = [0]

        def on_match(ident: int, _start: int, end: int, _flags: int, _context: object) -> bool | None:
            if ident in self._bounded:
                total[0] += 1
                if total[0] > MAX_HITS:
                    return True  # a flood (pathological input): the reference engine does this chunk
                positions = ends.get(ident)
                if positions is None:
                    ends[ident] = [end]
                else:
                    positions.append(end)
            else:
                hit.add(ident)
            return None

        if not self._scan(data, on_match):
            return self._reference.locate(data)
        return self._resolve(ends, hit, count, data)

    def _scan(self, data: bytes, handler: Callable[..., Any]) -> bool:
        """Scan; False when the handler stopped it."""
        try:
            self._database.scan(data, match_event_handler=handler)
        except self._hs.ScanTerminated:
            return False
        return True

    def _resolve(self, ends: dict[int, list[int]], hit: set[int], count: int, data: bytes) -> Located:
        keyword_hit: set[int] = set(self._keywordless)
        for ident in hit:
            if ident >= count:
                keyword_hit.update(self._keyword_owners[ident - count])
        found: Located = {}
        reference: Located | None = None
        for index in keyword_hit:
            if index in self.fallbacks or (index in hit and index not in ends):
                # Matches of unknown extent: where the rule is keyword-anchored, the reference
                # engine's start regions (cheap, and only for the rare chunk where Hyperscan saw a
                # match) beat searching the whole chunk.
                if self._rules[index].anchors is None:
                    found[index] = None
                    continue
                if reference is None:
                    reference = self._anchor_prefilter().locate(data)
                found[index] = reference.get(index)
            elif index in ends:
                found[index] = self._regions(self._rules[index], ends[index], data)
        return found

    @staticmethod
    def _regions(rule: EngineRule, ends: list[int], data: bytes) -> list[Region] | None:
        """Regions holding every match ending at ``ends``: the match width before each end, or
        the line each end is on."""
        reach = rule.reach
        if reach is None:  # cannot happen for a rule planned as windowed; stay correct anyway
            return None
        width = reach.width
        regions: list[Region] = []
        for end in sorted(ends):
            if regions and end <= regions[-1][1]:
                continue
            if width is not None:
                start, stop = max(0, end - width), end
            else:
                start = data.rfind(b"\n", 0, max(0, end - 1)) + 1
                stop = data.find(b"\n", max(0, end - 1))
                stop = len(data) if stop < 0 else stop
            if regions and start <= regions[-1][1]:
                regions[-1] = (regions[-1][0], stop)
            elif len(regions) >= MAX_REGIONS:
                return None
            else:
                regions.append((start, stop))
        return regions


def hyperscan_fallbacks(rules: Sequence[Rule]) -> frozenset[str] | None:
    """Ids of the rules Hyperscan cannot run (they use the reference path), or None without it."""
    if not hyperscan_available():
        return None
    engine_rules = [EngineRule(index, rule) for index, rule in enumerate(rules)]
    return HyperscanLocator(engine_rules, KeywordPrefilter(engine_rules)).fallback_rule_ids
