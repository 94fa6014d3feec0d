"""Notebook outputs (stream, text/plain, coloured error tracebacks) are scanned, and each finding
names its cell and output and the line of the .ipynb file it is on."""

from __future__ import annotations

import json
import random
import string
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess
from typing import Any

from tests.scanner.gitrepo import json_findings

RunCli = Callable[..., CompletedProcess[str]]
ESC = "\x1b"


def _token(rng: random.Random) -> str:
    return "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(24))


def _file_line(text: str, needle: str) -> int:
    return next(number for number, line in enumerate(text.splitlines(), start=1) if needle in line)


def test_outputs_and_coloured_traceback_are_found_at_their_lines(tmp_path: Path, run_cli: RunCli) -> None:
    """A secret in a stream, in a repr and in a frame of an IPython traceback is reported in its
    cell's output, on the file line holding it, with the colour codes around it ignored."""
    rng = random.Random(1406)
    streamed, shown, traced = _token(rng), _token(rng), _token(rng)
    frame = (
        f"Cell {ESC}[0;32mIn[1], line 3{ESC}[0m\n{ESC}[1;32m      1{ESC}[0m x = 1\n"
        f'{ESC}[0;32m----> 3{ESC}[0m connect(password{ESC}[38;5;241m={ESC}[39m{ESC}[38;5;124m"{traced}"{ESC}[39m)\n'
    )
    outputs: list[dict[str, Any]] = [
        {"output_type": "stream", "name": "stdout", "text": ["starting\n", f"DB_PASSWORD={streamed}\n"]},
        {
            "output_type": "execute_result",
            "execution_count": 1,
            "metadata": {},
            "data": {"text/plain": ["{'HOME': '/root',\n", f" 'API_TOKEN': '{shown}'}}"]},
        },
        {
            "output_type": "error",
            "ename": "ValueError",
            "evalue": "bad",
            "traceback": [f"{ESC}[0;31m----------{ESC}[0m", frame],
        },
    ]
    cell = {"cell_type": "code", "execution_count": 1, "metadata": {}, "source": ["run()\n"], "outputs": outputs}
    text = json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}, indent=1)
    (tmp_path / "report.ipynb").write_text(text)
    findings = json_findings(run_cli("scan", ".", "--format", "json", "--no-redact", cwd=tmp_path))
    assert sorted((f["location"], f["line"], f["secret"]) for f in findings) == [
        ("cell 1 output 1", _file_line(text, streamed), streamed),
        ("cell 1 output 2", _file_line(text, shown), shown),
        ("cell 1 output 3", _file_line(text, traced), traced),
    ]
