"""Write the red-team corpus: ``leaks/``, ``clean/``, optionally ``background/``, and truth.json."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

from . import background, callsites
from .clean import all_clean
from .fake import Fake
from .leaks import all_leaks
from .model import Snippet


def snippets(seed: int) -> list[Snippet]:
    rng = random.Random(seed)
    fake = Fake(rng)
    return all_leaks(rng) + all_clean(rng) + callsites.leaks(fake, rng, 3) + callsites.clean(fake, rng)


def write(root: Path, seed: int = 7, with_background: bool = True) -> dict[str, object]:
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    items = []
    for snippet in snippets(seed):
        folder = "leaks" if snippet.secret is not None else "clean"
        path = f"{folder}/{snippet.path}"
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(snippet.text, encoding="utf-8")
        items.append(
            {
                "path": path,
                "style": snippet.style,
                "kind": snippet.kind,
                "lines": snippet.lines(),
                "also": [snippet.span_of(value) for value in snippet.also],
            }
        )
    size = background.gather(root / "background") if with_background else 0
    truth: dict[str, object] = {"seed": seed, "background_bytes": size, "files": items}
    (root / "truth.json").write_text(json.dumps(truth, indent=1), encoding="utf-8")
    return truth
