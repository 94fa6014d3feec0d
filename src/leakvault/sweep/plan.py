"""Cutting a repository's new commits into the ranges that become tasks."""

from __future__ import annotations

from leakvault.sweep.model import CommitRange, Repository

# Commits per task: enough that a task's fixed cost (a git process, the hand-over) is small, few
# enough that a long history spreads over every worker and a lost worker redoes little.
DEFAULT_RANGE_COMMITS = 500


def split_commits(repository: Repository, commits: list[str], range_commits: int) -> list[tuple[CommitRange, int]]:
    """Ranges of at most ``range_commits`` commits in history order, each with the offset of its
    first commit (the walk's order, so the earliest place of a secret can be kept)."""
    size = max(1, range_commits)
    return [
        (CommitRange(repository, index, tuple(commits[start : start + size])), start)
        for index, start in enumerate(range(0, len(commits), size))
    ]
