"""Helpers shared by the report writers."""

from __future__ import annotations

from collections import defaultdict

from leakvault.scanner.automaton import Automaton
from leakvault.scanner.findings.redact import preview, redact
from leakvault.scanner.model import Finding


def shown_secret(finding: Finding, reveal: bool) -> str:
    return finding.secret if reveal or finding.redacted else redact(finding.secret)


# Past this many secrets in one file, an automaton finds those on each line: testing each secret
# against each line is quadratic (a generated file with 10,000 findings took 8 s to report).
AUTOMATON_FROM = 64


def previews(findings: list[Finding], reveal: bool) -> list[str]:
    """Each finding's line, with every secret found anywhere in the same file redacted (a line can
    hold a second secret that was reported on another line of the file)."""
    in_file: dict[str, set[str]] = defaultdict(set)
    # A secret that starts on a line but runs past it (a multi-line key) is no substring of the line.
    starting_on: dict[tuple[str, int, str], list[str]] = defaultdict(list)
    for finding in (finding for finding in findings if not finding.redacted):
        in_file[finding.path].add(finding.secret)
        starting_on[_line_key(finding)].append(finding.secret)
    finders = {path: _SecretFinder(secrets) for path, secrets in in_file.items() if len(secrets) >= AUTOMATON_FROM}
    result = []
    for finding in findings:
        if finding.redacted:  # its line is a redacted preview already
            result.append(finding.line_text)
            continue
        finder = finders.get(finding.path)
        on_line = (
            finder.on(finding.line_text)
            if finder is not None
            else [secret for secret in in_file[finding.path] if secret in finding.line_text]
        )
        same_line = dict.fromkeys([*on_line, *starting_on[_line_key(finding)]])
        others = [secret for secret in same_line if secret != finding.secret]
        result.append(preview(finding.line_text, [finding.secret, *others], reveal))
    return result


def _line_key(finding: Finding) -> tuple[str, int, str]:
    return finding.path, finding.line, finding.commit.sha if finding.commit else ""


class _SecretFinder:
    """The secrets (of one file) that occur in a line, overlapping ones included."""

    def __init__(self, secrets: set[str]) -> None:
        self._secrets = sorted(secrets)
        self._automaton = Automaton([secret.encode("utf-8") for secret in self._secrets], dense=False)

    def on(self, line: str) -> list[str]:
        found = {index for index, _, _ in self._automaton.occurrences(line.encode("utf-8"))}
        return [self._secrets[index] for index in sorted(found)]
