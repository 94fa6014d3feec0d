"""``leakvault sweep``: scan many repositories' histories on a Dask cluster into one report.

The pipeline: `repos` names each repository and keeps a bare mirror of a remote one in the state
folder; `plan` asks each repository (on a worker) which commits are new since the last sweep and
cuts them into ranges; `tasks` scans one range on a worker and returns redacted records; `store`
writes each result into SQLite as it arrives; `runner` drives the cluster; `report` turns the
store into the scanner's report formats, one finding per secret with every place it was seen.

Nothing here holds a secret value: workers hash and redact before a record leaves them, so the
results store, the network between workers and the client, and every report see only hashes
and redacted previews.
"""

from leakvault.sweep.runner import SweepOptions, SweepSummary, run_sweep

__all__ = ["SweepOptions", "SweepSummary", "run_sweep"]
