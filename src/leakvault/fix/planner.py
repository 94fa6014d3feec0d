"""From findings to a `FixPlan`: locate each literal, name it, rewrite each file, check the result.

Nothing is written here. A file whose rewrite does not parse again is refused as a whole, and the
names are then chosen once more over the files that remain, so vault paths follow the files that
actually change.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from leakvault.fix.languages import language_for, rewriter_for
from leakvault.fix.mapping import MAPPING_RELATIVE, read_mapping
from leakvault.fix.model import FileFix, FixPlan, PlannedSecret, Refusal, SiteFix, Target
from leakvault.fix.naming import (
    env_name,
    file_stem,
    repository_name,
    repository_root,
    vault_path,
)
from leakvault.fix.rewriter import LineIndex, Rewriter
from leakvault.scanner.model import Finding

BOM = "\ufeff"
MAX_NAME_ATTEMPTS = 100


@dataclass(slots=True)
class _Site:
    finding: Finding
    target: Target


@dataclass(slots=True)
class _File:
    path: str
    absolute: Path
    language: str
    text: str = field(repr=False)
    bom: bool
    rewriter: Rewriter
    sites: list[_Site] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Named:
    name: str
    vault_path: str
    reused: bool


class _Namer:
    """Chooses one environment variable name and vault path per distinct value."""

    def __init__(self, repo: str, mapping: Mapping[str, str], known: Mapping[str, tuple[str, str]]) -> None:
        self.repo = repo
        self.taken: dict[str, str] = dict(mapping)  # name -> vault path
        self.by_value: dict[str, _Named] = {value: _Named(name, path, True) for value, (name, path) in known.items()}

    def name(self, site: _Site, path: str) -> _Named | str:
        target = site.target
        seen = self.by_value.get(target.value)
        if target.name_required and target.key:
            wanted_path = seen.vault_path if seen else vault_path(self.repo, path, target.key)
            holder = self.taken.get(target.key)
            if holder is not None and holder != wanted_path:
                mapping = MAPPING_RELATIVE.as_posix()
                return (
                    f"{target.key} already names {holder!r} in {mapping}, which holds another value; "
                    f"to replace that value use: leakvault vault set {holder} -"
                )
            named = _Named(target.key, wanted_path, seen.reused if seen else False)
            self.taken[target.key] = wanted_path
            self.by_value.setdefault(target.value, named)
            return named
        if seen is not None:
            return seen
        base = env_name(target.key) if target.key else env_name(site.finding.rule_id)
        stem = env_name(file_stem(path))
        candidates = [base, f"{stem}_{base}"] + [f"{stem}_{base}_{n}" for n in range(2, MAX_NAME_ATTEMPTS)]
        for candidate in candidates:
            if candidate not in self.taken:
                named = _Named(candidate, vault_path(self.repo, path, candidate), False)
                self.taken[candidate] = named.vault_path
                self.by_value[target.value] = named
                return named
        return f"no free environment variable name for {base}"


def _read(path: str, cwd: Path) -> tuple[Path, str, bool] | str:
    absolute = (cwd / path) if not os.path.isabs(path) else Path(path)
    try:
        data = absolute.read_bytes()
    except OSError as exc:
        return f"cannot read the file ({exc.strerror or type(exc).__name__})"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return "not UTF-8 text; leakvault rewrites only UTF-8 files"
    bom = text.startswith(BOM)
    return absolute, text[1:] if bom else text, bom


def _span(finding: Finding, lines: LineIndex, bom: bool) -> tuple[int, int]:
    shift = 1 if bom else 0
    start = lines.offset(finding.line, finding.column - (shift if finding.line == 1 else 0))
    end = lines.offset(finding.end_line, finding.end_column - (shift if finding.end_line == 1 else 0))
    return start, end


def _collect(findings: Sequence[Finding], cwd: Path, refusals: list[Refusal]) -> list[_File]:
    by_path: dict[str, list[Finding]] = {}
    for finding in findings:
        if finding.commit is not None:
            refusals.append(
                Refusal(
                    finding.path,
                    finding.line,
                    finding.rule_id,
                    f"found in git history (commit {finding.commit.sha[:10]}), not in the working tree; rotate it",
                )
            )
        elif finding.path == "<stdin>":
            refusals.append(Refusal(finding.path, finding.line, finding.rule_id, "read from standard input"))
        else:
            by_path.setdefault(finding.path, []).append(finding)
    files: list[_File] = []
    for path in sorted(by_path):
        group = sorted(by_path[path], key=lambda f: (f.line, f.column))
        read = _read(path, cwd)
        if isinstance(read, str):
            refusals.extend(Refusal(path, f.line, f.rule_id, read) for f in group)
            continue
        absolute, text, bom = read
        language = language_for(path, text)
        if language is None:
            refusals.extend(
                Refusal(path, f.line, f.rule_id, "no rewriter for this file type; move the secret by hand")
                for f in group
            )
            continue
        rewriter = rewriter_for(language, path, text)
        file = _File(path, absolute, rewriter.language, text, bom, rewriter)
        lines = LineIndex(text)
        for finding in group:
            start, end = _span(finding, lines, bom)
            if start < 0 or end < 0 or text[start:end] != finding.secret:
                refusals.append(
                    Refusal(path, finding.line, finding.rule_id, "the file changed since it was scanned; scan again")
                )
                continue
            target = file.rewriter.locate(start, end)
            if isinstance(target, str):
                refusals.append(Refusal(path, finding.line, finding.rule_id, target))
                continue
            clash = next((s for s in file.sites if s.target.start < target.end and target.start < s.target.end), None)
            if clash is not None:
                if (clash.target.start, clash.target.end) != (
                    target.start,
                    target.end,
                ) or clash.target.value != target.value:
                    refusals.append(
                        Refusal(
                            path,
                            finding.line,
                            finding.rule_id,
                            "overlaps another secret's rewrite on this line; fix it by hand",
                        )
                    )
                continue  # the same literal reported twice: one rewrite covers both
            file.sites.append(_Site(finding, target))
        if file.sites:
            files.append(file)
    return files


def _rewrite(file: _File, names: Mapping[int, _Named]) -> tuple[str, str, str | None]:
    """The file's new text, the parser that checked it, and the error (None when it parsed)."""
    text = file.text
    placed: list[tuple[Target, str]] = []
    for site in sorted(file.sites, key=lambda s: s.target.start, reverse=True):
        if id(site) not in names:
            continue  # its name was refused
        name = names[id(site)].name
        replacement = file.rewriter.render(site.target, name)
        if site.finding.secret in replacement:
            # The kept pieces of a split literal hold the secret again (it occurs twice in it).
            return text, "", f"line {site.finding.line}: the secret occurs again in the same literal; fix it by hand"
        text = text[: site.target.start] + replacement + text[site.target.end :]
        placed.append((site.target, name))
    text = file.rewriter.finish(text, [name for _, name in placed])
    result = file.rewriter.check(text, placed)
    return text, result.parser, result.error


def _rewrite_all(files: Sequence[_File], names: Mapping[int, _Named]) -> dict[str, tuple[str, str, str | None]]:
    """Each file that has a named site -> (new text, parser, error)."""
    return {file.path: _rewrite(file, names) for file in files if any(id(site) in names for site in file.sites)}


def _name_all(files: Sequence[_File], namer: _Namer, refusals: list[Refusal]) -> dict[int, _Named]:
    """Names for every site that can have one (the others are refused)."""
    names: dict[int, _Named] = {}
    ordered = [(file, site) for file in files for site in file.sites]
    # A name a program already reads (a .env key, a Dockerfile ENV) is claimed before derived ones.
    ordered.sort(key=lambda pair: (not pair[1].target.name_required, pair[0].path, pair[1].target.start))
    for file, site in ordered:
        named = namer.name(site, file.path)
        if isinstance(named, str):
            refusals.append(Refusal(file.path, site.finding.line, site.finding.rule_id, named))
        else:
            names[id(site)] = named
    return names


def plan_fixes(
    findings: Sequence[Finding],
    *,
    cwd: Path | None = None,
    root: Path | None = None,
    known: Mapping[str, tuple[str, str]] | None = None,
) -> FixPlan:
    """Plan the fix of every finding that can be fixed. ``known`` maps values already in the vault
    (from an earlier run) to their (name, vault path), so they are reused rather than stored again."""
    cwd = cwd or Path.cwd()
    root = root or repository_root(cwd)
    mapping_file = root / MAPPING_RELATIVE
    mapping = read_mapping(mapping_file)
    repo = repository_name(root)
    refusals: list[Refusal] = []
    files = _collect(findings, cwd, refusals)

    # A file whose rewrite fails to parse is dropped, and the names are then chosen again over the
    # remaining files, so vault paths follow the files that actually change.
    naming_refusals: list[Refusal] = []
    names = _name_all(files, _Namer(repo, mapping, known or {}), naming_refusals)
    results = _rewrite_all(files, names)
    failed = {path for path, (_, _, error) in results.items() if error is not None}
    if failed:
        for file in files:
            if file.path in failed:
                refusals.append(Refusal(file.path, 0, None, f"left untouched: {results[file.path][2]}"))
                refusals.extend(
                    Refusal(file.path, s.finding.line, s.finding.rule_id, "its file is left untouched (see above)")
                    for s in file.sites
                )
        files = [file for file in files if file.path not in failed]
        naming_refusals = []
        names = _name_all(files, _Namer(repo, mapping, known or {}), naming_refusals)
        results = _rewrite_all(files, names)
    refusals.extend(naming_refusals)

    fixes: list[FileFix] = []
    secrets: dict[str, PlannedSecret] = {}
    new_entries: dict[str, str] = {}
    for file in files:
        if file.path not in results:
            continue
        rewritten, parser, error = results[file.path]
        if error is not None:
            refusals.append(Refusal(file.path, 0, None, f"left untouched: {error}"))
            continue
        sites = []
        for site in sorted(file.sites, key=lambda s: s.target.start):
            if id(site) not in names:
                continue
            named = names[id(site)]
            sites.append(
                SiteFix(
                    file.path,
                    site.finding.line,
                    site.finding.rule_id,
                    named.name,
                    named.vault_path,
                    file.language,
                    site.target.note.replace("NAME", named.name),
                )
            )
            planned = secrets.get(site.target.value)
            paths = (planned.paths if planned else ()) + (
                (file.path,) if not planned or file.path not in planned.paths else ()
            )
            secrets[site.target.value] = PlannedSecret(
                (planned.name if planned else named.name), named.vault_path, site.target.value, paths, named.reused
            )
            if mapping.get(named.name) != named.vault_path:
                new_entries[named.name] = named.vault_path
        fixes.append(
            FileFix(
                file.path,
                file.absolute,
                file.language,
                (BOM if file.bom else "") + file.text,
                (BOM if file.bom else "") + rewritten,
                tuple(sites),
                parser,
            )
        )
    refusals.sort(key=lambda r: (r.path, r.line))
    return FixPlan(
        root=root,
        mapping_file=mapping_file,
        files=tuple(fixes),
        secrets=tuple(sorted(secrets.values(), key=lambda s: s.vault_path)),
        refusals=tuple(refusals),
        mapping=tuple(sorted(new_entries.items())),
    )
