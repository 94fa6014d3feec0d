"""SARIF 2.1.0, built with the `sarif-om` object model, in the shape GitHub code scanning accepts:
relative artifact URIs under ``%SRCROOT%``, rule metadata with help text and a
``security-severity`` property, regions, and ``partialFingerprints``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

import attr
import sarif_om as sarif

from leakvault.patterns.model import Rule
from leakvault.scanner.model import Finding, ScanResult
from leakvault.scanner.report.common import shown_secret
from leakvault.version import __version__

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/leakvault/leakvault"
LEVELS = {"high": "error", "medium": "warning", "low": "note"}
FINGERPRINT_KEY = "leakvaultFingerprint/v1"


# Fields written even when they hold the schema's default, because consumers read them explicitly.
ALWAYS_WRITTEN = frozenset({"version", "level"})


def to_sarif_dict(value: Any) -> Any:
    """Serialise sarif-om objects with their schema property names, leaving out unset fields and
    fields that hold the schema's default (the object model fills in many)."""
    if attr.has(type(value)):
        out = {}
        for field in attr.fields(type(value)):
            item = getattr(value, field.name)
            if item is None or (
                field.name not in ALWAYS_WRITTEN
                and field.default is not attr.NOTHING
                and not isinstance(field.default, attr.Factory)  # type: ignore[arg-type]  # attrs types Factory as a function, but it is a class
                and item == field.default
            ):
                continue
            out[field.metadata.get("schema_property_name", field.name)] = to_sarif_dict(item)
        return out
    if isinstance(value, list | tuple):
        return [to_sarif_dict(item) for item in value]
    if isinstance(value, dict):
        return {key: to_sarif_dict(item) for key, item in value.items()}
    return value


def artifact_uri(path: str) -> tuple[str, str | None]:
    """A URI for a reported path, and the base id it is relative to (None for absolute URIs)."""
    if path.startswith("/"):
        return "file://" + quote(path), None
    return quote(path), "%SRCROOT%"


DEFAULT_REMEDIATION = "Revoke the credential and move it into a secret store."


def _help_text(rule: Rule) -> tuple[str, str]:
    references = "".join(f"\n- {reference}" for reference in rule.references)
    fix = rule.remediation or DEFAULT_REMEDIATION
    text = f"{rule.description}\n\nFix: {fix}"
    markdown = f"**{rule.name}**\n\n{rule.description}\n\n**Fix:** {fix}"
    if references:
        text += f"\n\nReferences:{references}"
        markdown += f"\n\n**References:**{references}"
    return text, markdown


def _descriptor(rule: Rule) -> sarif.ReportingDescriptor:
    text, markdown = _help_text(rule)
    return sarif.ReportingDescriptor(
        id=rule.id,
        name="".join(part.capitalize() for part in rule.id.split("-")),
        short_description=sarif.MultiformatMessageString(text=rule.name),
        full_description=sarif.MultiformatMessageString(text=rule.description or rule.name),
        help=sarif.MultiformatMessageString(text=text, markdown=markdown),
        help_uri=rule.references[0] if rule.references else None,
        default_configuration=sarif.ReportingConfiguration(level=LEVELS[rule.severity]),
        properties={
            "security-severity": rule.security_severity,
            "precision": {"high": "high", "medium": "medium", "low": "low"}[rule.confidence],
            "tags": ["security", "secret", *rule.tags],
        },
    )


def _result(finding: Finding, rule_index: int, reveal: bool) -> sarif.Result:
    uri, base = artifact_uri(finding.path)
    message = f"{finding.rule_name}: {shown_secret(finding, reveal)}"
    if finding.commit:
        message += f" (commit {finding.commit.sha[:12]} by {finding.commit.author})"
    properties: dict[str, Any] | None = None
    if finding.commit:
        properties = {"commit": finding.commit.sha, "author": finding.commit.author, "date": finding.commit.date}
    return sarif.Result(
        rule_id=finding.rule_id,
        rule_index=rule_index,
        level=LEVELS.get(finding.severity, "warning"),
        message=sarif.Message(text=message),
        locations=[
            sarif.Location(
                physical_location=sarif.PhysicalLocation(
                    artifact_location=sarif.ArtifactLocation(uri=uri, uri_base_id=base),
                    region=sarif.Region(
                        start_line=finding.line,
                        start_column=finding.column,
                        end_line=finding.end_line,
                        end_column=finding.end_column,
                    ),
                )
            )
        ],
        partial_fingerprints={FINGERPRINT_KEY: finding.fingerprint},
        properties=properties,
    )


def build_sarif(result: ScanResult, rules: Sequence[Rule], *, reveal: bool = False) -> dict[str, Any]:
    """The SARIF log as a JSON-ready dict. Only rules with results are described, keeping reports
    small and stable as the catalog grows."""
    by_id = {rule.id: rule for rule in rules}
    used = sorted({finding.rule_id for finding in result.findings if finding.rule_id in by_id})
    index = {rule_id: position for position, rule_id in enumerate(used)}
    notifications = [
        sarif.Notification(message=sarif.Message(text=warning), level="warning") for warning in result.warnings
    ]
    run = sarif.Run(
        tool=sarif.Tool(
            driver=sarif.ToolComponent(
                name="leakvault",
                version=__version__,
                semantic_version=__version__,
                information_uri=INFORMATION_URI,
                rules=[_descriptor(by_id[rule_id]) for rule_id in used],
            )
        ),
        results=[_result(finding, index.get(finding.rule_id, -1), reveal) for finding in result.findings],
        invocations=[sarif.Invocation(execution_successful=True, tool_execution_notifications=notifications or None)],
        column_kind="unicodeCodePoints",
        original_uri_base_ids={"%SRCROOT%": sarif.ArtifactLocation(uri="./")} if result.findings else None,
    )
    log = sarif.SarifLog(version="2.1.0", schema_uri=SCHEMA_URI, runs=[run])
    body: dict[str, Any] = to_sarif_dict(log)
    # Readers look for $schema and version first.
    return {"$schema": body.pop("$schema"), "version": body.pop("version"), **body}


def render_sarif(result: ScanResult, rules: Sequence[Rule], *, reveal: bool = False) -> str:
    return json.dumps(build_sarif(result, rules, reveal=reveal), indent=2, ensure_ascii=False) + "\n"


def report(result: ScanResult, rules: Sequence[Rule], *, reveal: bool, color: bool) -> str:
    """The `Format.SARIF` reporter (see `leakvault.scanner.report.Reporter`)."""
    return render_sarif(result, rules, reveal=reveal)
