"""Regenerate docs/rules.md from the rule data (``--check``: exit 1 if the committed page is stale).

python scripts/gen_rule_docs.py          # rewrite docs/rules.md
python scripts/gen_rule_docs.py --check  # CI: fail when someone changed a rule and forgot
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from leakvault.errors import LeakvaultError
from leakvault.patterns.docs import render_rules
from leakvault.patterns.loader import load_builtin_rules

DOCS = Path(__file__).resolve().parents[1] / "docs" / "rules.md"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    parser.add_argument("--output", type=Path, default=DOCS)
    args = parser.parse_args(argv)
    try:
        text = render_rules(load_builtin_rules())
    except LeakvaultError as exc:
        print(f"gen_rule_docs: error: {exc}", file=sys.stderr)
        return 2
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is out of date: run python scripts/gen_rule_docs.py", file=sys.stderr)
            return 1
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
