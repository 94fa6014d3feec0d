"""Generated repositories for the sweep tests: real git histories with planted fake secrets."""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.scanner.gitrepo import GitRepo
from tests.scanner.tokens import github_pat

REPOSITORIES = 20
COMMITS_PER_REPOSITORY = 12


@dataclass(frozen=True)
class Planted:
    repository: str
    path: str
    secret: str


@dataclass(frozen=True)
class Organisation:
    root: Path
    repos: list[GitRepo]
    planted: list[Planted]
    shared_secret: str  # planted in two repositories: one finding, two places

    def repos_file(self, directory: Path) -> Path:
        target = directory / "repos.txt"
        target.write_text("# the organisation\n" + "".join(f"{repo.path}\n" for repo in self.repos))
        return target


def make_organisation(
    root: Path, seed: int, count: int = REPOSITORIES, commits: int = COMMITS_PER_REPOSITORY
) -> Organisation:
    """``count`` repositories of ``commits`` commits; each plants its own token in a commit in the
    middle of its history (later edited away, so only history has it), and two share one."""
    rng = random.Random(seed)
    shared = github_pat(rng)
    repos: list[GitRepo] = []
    planted: list[Planted] = []
    for number in range(count):
        repo = GitRepo(root / f"service-{number:02d}")
        secret = github_pat(rng)
        for index in range(commits):
            repo.write("app.py", f"VERSION = {index}\n")
            if index == commits // 2:
                repo.write("config/settings.env", f"GITHUB_TOKEN={secret}\n")
            elif index == commits // 2 + 1:
                repo.write("config/settings.env", "GITHUB_TOKEN=${GITHUB_TOKEN}\n")
            if number in (3, 11) and index == 1:
                repo.write("deploy/ci.env", f"GH_TOKEN={shared}\n")
            repo.commit(f"change {index}", ".")
        repos.append(repo)
        planted.append(Planted(repo.path.name, "config/settings.env", secret))
    return Organisation(root, repos, planted, shared)


@pytest.fixture(scope="module")
def organisation(tmp_path_factory: pytest.TempPathFactory) -> Organisation:
    return make_organisation(tmp_path_factory.mktemp("org"), seed=20261205)
