"""Each rule's pattern analysis (`match_reach`), computed once per rule set and reused from disk.

Reading a pattern's structure costs about a millisecond per rule, in every process that meets the
rule; for a scan that touches most rules (and in each forked worker) that adds up, so the results
for a whole rule set are stored as one small JSON entry in the cache, keyed by the rules' patterns
and keywords and by the analysis version.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from leakvault.scanner.engine.detect import EngineRule
from leakvault.scanner.engine.disk_cache import content_key, read_entry, write_entry
from leakvault.scanner.engine.match_reach import MatchReach

# Bump when `match_reach` changes what it concludes.
ANALYSIS_VERSION = "2"


def _key(rules: Sequence[EngineRule]) -> str:
    return content_key([ANALYSIS_VERSION, *("\0".join((rule.rule.regex, *rule.rule.keywords)) for rule in rules)])


def load_analyses(rules: Sequence[EngineRule]) -> None:
    """Fill in every rule's reach and keyword anchor, from the cache or by computing them (and
    caching the result)."""
    name = f"analysis-{_key(rules)}.json"
    entry = read_entry(name)
    if entry is not None:
        try:
            records = json.loads(entry)
            if isinstance(records, list) and len(records) == len(rules):
                for rule, (reach, anchors) in zip(rules, records, strict=True):
                    rule.preset(MatchReach(*reach) if reach is not None else None, anchors)
                return
        except (ValueError, TypeError):
            pass  # a damaged entry: compute afresh
    records = []
    for rule in rules:
        reach = rule.reach
        records.append([[reach.width, reach.single_line, reach.tail] if reach else None, rule.anchors])
    write_entry(name, json.dumps(records).encode())
