"""The plain data passed between the scanner's stages.

source -> `Chunk` -> prefilter + detect -> `Candidate` -> filters -> `Finding` -> reports.
Fields holding secret material are excluded from ``repr`` so a stray log line or traceback never
shows one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Markers that keep a line's secrets out of the report (the last two for users of gitleaks and
# detect-secrets). The filters honour them; the base64 source does not decode values on such lines.
INLINE_ALLOW_MARKERS = ("leakvault:allow", "gitleaks:allow", "pragma: allowlist secret")


@dataclass(frozen=True, slots=True)
class CommitInfo:
    """Where a chunk came from in git history."""

    sha: str
    author: str
    email: str
    date: str  # ISO 8601, UTC


@dataclass(frozen=True, slots=True)
class Chunk:
    """A unit of text to scan: a file, stdin, a staged blob or the added lines of a commit."""

    path: str  # as reported: relative to the scan root where possible, forward slashes
    data: bytes = field(repr=False)
    first_line: int = 1  # line number, in the original file, of the first line of ``data``
    commit: CommitInfo | None = None
    # Report only findings on these lines (numbers in the original file); None reports all.
    line_filter: frozenset[int] | None = field(default=None, repr=False)
    # A human label for a region inside the file (e.g. "cell 3" of a notebook), shown in reports.
    location: str | None = None


@dataclass(frozen=True, slots=True)
class Candidate:
    """A rule's regex matched and its checks passed; filters decide whether it becomes a finding."""

    rule_id: str
    chunk: Chunk
    start: int  # offset of group 1 in ``chunk.data`` (bytes)
    end: int
    secret: str = field(repr=False)
    entropy: float = 0.0


@dataclass(frozen=True, slots=True)
class SeenAt:
    """Another place the same secret was met (a sweep reports a secret once, with every place)."""

    repository: str | None
    path: str
    line: int
    commit: str | None = None


@dataclass(frozen=True, slots=True)
class Finding:
    """A reported secret. ``secret`` and ``line_text`` are raw; reports redact them by default."""

    rule_id: str
    rule_name: str
    description: str
    severity: str
    confidence: str
    path: str
    line: int
    column: int  # 1-based, in characters
    end_line: int
    end_column: int  # 1-based, exclusive
    fingerprint: str
    entropy: float
    secret: str = field(repr=False)
    line_text: str = field(repr=False)  # the whole line the secret starts on, for previews
    commit: CommitInfo | None = None
    location: str | None = None
    tags: tuple[str, ...] = ()
    repository: str | None = None  # set by a sweep of many repositories
    also_seen_at: tuple[SeenAt, ...] = ()
    # ``secret`` and ``line_text`` hold redacted text already: a finding read back from a store that
    # keeps no secret values (the sweep's); reports show them as they are.
    redacted: bool = False


@dataclass(slots=True)
class ScanStats:
    """Counters for what the scan read and what it passed over, so nothing is skipped silently."""

    files_scanned: int = 0
    bytes_scanned: int = 0
    skipped_binary: int = 0
    skipped_too_large: int = 0
    skipped_unreadable: int = 0
    regex_timeouts: int = 0

    def merge(self, other: ScanStats) -> None:
        self.files_scanned += other.files_scanned
        self.bytes_scanned += other.bytes_scanned
        self.skipped_binary += other.skipped_binary
        self.skipped_too_large += other.skipped_too_large
        self.skipped_unreadable += other.skipped_unreadable
        self.regex_timeouts += other.regex_timeouts


@dataclass(slots=True)
class ScanResult:
    """What a scan returns: findings in a stable order, counters and warnings (one line each)."""

    findings: list[Finding] = field(default_factory=list)
    # Findings a baseline accepted: not reported as findings, but shown as baselined where a
    # report has room for them (the HTML report, the text summary).
    baselined: list[Finding] = field(default_factory=list)
    stats: ScanStats = field(default_factory=ScanStats)
    warnings: list[str] = field(default_factory=list)
