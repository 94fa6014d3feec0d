"""``leakvault scan --fix``: move hard-coded secrets into the vault and rewrite code to read them.

findings -> `plan_fixes` (rewriters per language, names, diff; writes nothing) -> `apply_plan`
(vault write + read-back, mapping file, atomic file writes) -> summary with the values that git
history already holds. See docs/fix.md.
"""

from __future__ import annotations

from leakvault.fix.applier import ApplyReport, apply_plan, known_values
from leakvault.fix.model import FileFix, FixPlan, PlannedSecret, Refusal, SiteFix
from leakvault.fix.planner import plan_fixes

__all__ = [
    "ApplyReport",
    "FileFix",
    "FixPlan",
    "PlannedSecret",
    "Refusal",
    "SiteFix",
    "apply_plan",
    "known_values",
    "plan_fixes",
]
