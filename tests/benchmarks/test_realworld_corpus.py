"""The independent corpus (benchmarks/realworld): real files with inserted secrets. Small, fast
checks that it is reproducible, that the truth names the lines holding each value, and that every
format names the provider page it comes from."""

from __future__ import annotations

import hashlib
import random
import sysconfig
from pathlib import Path
from typing import Any

import pytest
from benchmarks.accuracy import score, tools
from benchmarks.realworld import generate, insert, providers, sources

from leakvault.patterns.validators import VALIDATORS

BOUNDARY = set(" \t\"'`=:,;(){}<>[]@")


STDLIB = Path(sysconfig.get_paths()["stdlib"])
# Small real trees (the full set takes a while to walk): configuration, docs and code.
ORIGINS = (
    sources.Origin("/etc", "etc"),
    sources.Origin(str(STDLIB / "email"), "lib/python/email"),
    sources.Origin(str(STDLIB / "json"), "lib/python/json"),
    sources.Origin(str(STDLIB / "logging"), "lib/python/logging"),
    sources.Origin("/usr/share/doc/git", "share/doc/git"),
)
SMALL = {"seed": 5, "scale": 0.3, "max_plants": 40, "origins": ORIGINS}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    root = tmp_path_factory.mktemp("realworld") / "corpus"
    return root, generate.generate(root, **SMALL)  # type: ignore[arg-type]


def _hashes_between_boundaries(text: str) -> set[str]:
    starts = [0] + [i + 1 for i, c in enumerate(text) if c in BOUNDARY]
    ends = [i for i, c in enumerate(text) if c in BOUNDARY] + [len(text)]
    return {hashlib.sha256(text[a:b].encode()).hexdigest() for a in starts for b in ends if b > a}


def test_same_seed_same_corpus(tmp_path: Path, corpus: tuple[Path, dict[str, Any]]) -> None:
    """Generating twice with one seed on one machine gives the same truth and the same bytes."""
    root, truth = corpus
    again = generate.generate(tmp_path / "again", **SMALL)  # type: ignore[arg-type]
    assert again == truth
    for record in truth["positives"][:10]:
        assert (root / record["file"]).read_bytes() == (tmp_path / "again" / record["file"]).read_bytes()


def test_truth_lines_hold_the_inserted_values(corpus: tuple[Path, dict[str, Any]]) -> None:
    """Each one-line secret and hard negative sits on its recorded line; key blocks start at theirs."""
    root, truth = corpus
    assert truth["positives"] and truth["negatives"]
    for record in truth["positives"] + truth["negatives"]:
        lines = (root / record["file"]).read_text(encoding="utf-8").split("\n")
        text = lines[record["line"] - 1]
        if record["line"] != record["end_line"]:
            assert "-----BEGIN" in text, record
            continue
        variants = {text, text.replace("&amp;", "&"), text.replace("''", "'")}
        assert any(record["sha256"] in _hashes_between_boundaries(v) for v in variants), record


def test_files_are_real_and_only_hosts_change(corpus: tuple[Path, dict[str, Any]]) -> None:
    """Background files are byte-for-byte copies of their source; hosts keep every original line."""
    root, truth = corpus
    for path, role in truth["file_roles"].items():
        source = Path(truth["sources"][path])
        if role in ("background", "minified"):
            assert (root / path).read_bytes() == source.read_bytes(), path
        else:
            original = source.read_text(encoding="utf-8").split("\n")
            changed = (root / path).read_text(encoding="utf-8").split("\n")
            inserted = iter(changed)
            assert all(any(line == other for other in inserted) for line in original), path


def test_no_path_a_peer_skips_by_default(corpus: tuple[Path, dict[str, Any]]) -> None:
    """Corpus paths never contain node_modules, vendor, site-packages or .dist-info."""
    _, truth = corpus
    for path in truth["file_roles"]:
        parts = path.split("/")
        assert not {"node_modules", "vendor", "site-packages"} & set(parts), path
        assert ".dist-info" not in path, path


def test_formats_name_their_documentation() -> None:
    """Every format names an https reference; at least 60 provider families are covered."""
    for kind in providers.KINDS:
        assert kind.ref.startswith("https://"), kind.id
    families = {kind.family for kind in providers.KINDS} - {"password", "database", "private-key"}
    assert len(families) >= 60, sorted(families)


def test_checksummed_formats_carry_valid_checksums() -> None:
    """GitHub and npm tokens are made with a valid CRC32, like the real ones."""
    rng = random.Random(2)
    for kind_id in ("github-pat", "github-app-token", "npm-token"):
        assert VALIDATORS["crc32_base62"](providers.KINDS_BY_ID[kind_id].make(rng)), kind_id


@pytest.mark.parametrize("file_type", sorted(insert.RENDERERS))
def test_every_file_type_has_a_place_and_a_form(file_type: str) -> None:
    """Each supported type offers a position in a typical file and writes a named value there."""
    samples = {
        "py": ["import os", "", "def main():", "    pass"],
        "js": ["'use strict';", "", "module.exports = {};"],
        "json": ["{", '  "name": "x"', "}"],
        "yaml": ["name: x", "items:", "  - a"],
        "toml": ["[tool]", "name = 'x'"],
        "ini": ["[main]", "debug = false"],
        "properties": ["a=1", "", "b=2"],
        "xml": ['<?xml version="1.0"?>', "<config>", "</config>"],
        "md": ["# Title", "", "Text."],
        "rst": ["Title", "=====", "", "Text."],
        "sql": ["SELECT 1;", "SELECT 2;"],
        "sh": ["#!/bin/sh", "# comment", "echo hi"],
        "php": ["<?php", "echo 'x';"],
        "dockerfile": ["FROM debian:12", "RUN true"],
        "go": ["package main", "", "func main() {}"],
    }
    plant = generate.make_positives(random.Random(4))[0]
    where = insert.place(file_type, samples[file_type], plant, random.Random(1), set())
    assert where is not None
    assert plant.value.replace("&", "&amp;") in "\n".join(where.lines[where.start : where.end + 1])


def test_sources_rename_paths_scanners_skip() -> None:
    """Vendored-path parts are renamed in corpus paths, everything else is kept."""
    assert sources.corpus_path("lib/js", "npm/node_modules/a/index.js") == "lib/js/npm/npm_modules/a/index.js"
    assert sources.corpus_path("lib/pypkgs", "pip-24.0.dist-info/x.json") == "lib/pypkgs/pip-24.0_dist_info/x.json"


def test_realworld_truth_scores_like_the_generated_one(corpus: tuple[Path, dict[str, Any]]) -> None:
    """The accuracy scorer reads the realworld truth: a finding on each secret's line is a full score."""
    _, truth = corpus
    findings = [tools.ToolFinding(r["file"], r["line"], r["end_line"], "x") for r in truth["positives"]]
    result = score.score(tools.ToolRun("t", "1", 0.0, findings), score.Truth(truth))
    assert result.counts(len(truth["positives"])) == (len(truth["positives"]), 0, 0)
