"""The layout rules of docs/architecture.md that import-linter does not check: folder sizes,
private modules, and the reason every function-level import must give."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "leakvault"
MAX_MODULES_PER_FOLDER = 12
# The vault is reorganised in phase 2 of issue 16 (store/, rotation/, its click modules into cli/),
# after its security work lands; until then it keeps its flat layout.
NOT_YET = ("vault",)


def _modules() -> Iterator[tuple[str, Path]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        yield ".".join(parts), path


def _is_phase_two(name: str) -> bool:
    return any(name == f"leakvault.{folder}" or name.startswith(f"leakvault.{folder}.") for folder in NOT_YET)


def _imported(node: ast.Import | ast.ImportFrom, module: str, path: Path) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level:  # relative: resolve against this module's package
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
        target = f"{base}.{node.module}" if node.module else base
    else:
        target = node.module or ""
    return [target, *(f"{target}.{alias.name}" for alias in node.names)]


def test_no_folder_holds_more_than_twelve_modules() -> None:
    """Every package folder holds at most twelve modules: past that it holds two ideas."""
    crowded = {}
    for folder in [PACKAGE, *(p for p in PACKAGE.rglob("*") if p.is_dir() and (p / "__init__.py").exists())]:
        name = ".".join(folder.relative_to(PACKAGE.parent).parts)
        count = len([p for p in folder.glob("*.py") if p.name not in ("__init__.py", "__main__.py")])
        if count > MAX_MODULES_PER_FOLDER and not _is_phase_two(name):
            crowded[name] = count
    assert crowded == {}


def test_no_module_imports_another_packages_private_module() -> None:
    """A module whose name starts with an underscore is imported only from inside its own package."""
    offenders = []
    known = {name for name, _ in _modules()}
    for module, path in _modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            for target in _imported(node, module, path):
                parts = target.split(".")
                while parts and ".".join(parts) not in known:  # a function or class: its module counts
                    parts.pop()
                for index, part in enumerate(parts):
                    if part.startswith("_") and not part.startswith("__") and parts[0] == "leakvault":
                        owner = ".".join(parts[:index])
                        if module != owner and not module.startswith(owner + "."):
                            offenders.append(f"{module} imports {target}")
                        break
    assert offenders == []


def _function_level_imports(tree: ast.Module) -> Iterator[ast.Import | ast.ImportFrom]:
    def walk(node: ast.AST, nested: bool) -> Iterator[ast.Import | ast.ImportFrom]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue  # type-only imports never run
            if isinstance(child, ast.Import | ast.ImportFrom) and nested:
                yield child
            inner = nested or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            yield from walk(child, inner)

    yield from walk(tree, False)


@pytest.mark.parametrize("module_path", [path for name, path in _modules() if not _is_phase_two(name)], ids=str)
def test_every_function_level_import_says_why(module_path: Path) -> None:
    """An import inside a function defers a slow or optional dependency, and a comment on its line
    or the line above says which; any other import belongs at the top of the module."""
    lines = module_path.read_text(encoding="utf-8").splitlines()
    silent = []
    explained: set[int] = set()  # lines of imports with a reason (a run of imports shares one)
    for node in _function_level_imports(ast.parse("\n".join(lines))):
        here, above = lines[node.lineno - 1], lines[node.lineno - 2].strip() if node.lineno > 1 else ""
        if "#" in here or above.startswith("#") or node.lineno - 1 in explained:
            explained.add(node.lineno)
        else:
            silent.append(f"{module_path.name}:{node.lineno}: {here.strip()}")
    assert silent == []
