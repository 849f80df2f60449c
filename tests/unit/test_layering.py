"""The package layering, checked on the source (every import statement, TYPE_CHECKING blocks and function-level
imports included): protocol/ is sans-IO and knows no log or broker; log/ and coordinator/ know no broker and no
asyncio; the tools and services (cli/, registry/, connect/, sql/) are Kafka clients, not broker internals."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
PACKAGE = SRC / "brook"

# package -> module prefixes nothing in it may import
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "protocol": ("brook.log", "brook.broker"),
    "log": ("brook.broker", "asyncio"),
    "coordinator": ("brook.broker", "asyncio"),
    "cli": ("brook.broker",),
    "registry": ("brook.broker",),
    "connect": ("brook.broker",),
    "sql": ("brook.broker",),
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    return imports_in(path.read_text(), _module_name(path), path.name == "__init__.py")


def imports_in(source: str, module: str, is_package: bool = False) -> set[str]:
    """Every module the source imports, relative imports resolved (`from . import x` counts as package.x too)."""
    package = module if is_package else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return found


def _violations(package: str) -> list[str]:
    banned = FORBIDDEN[package]
    out = []
    for path in sorted((PACKAGE / package).rglob("*.py")):
        for name in sorted(imports_of(path)):
            if any(name == b or name.startswith(b + ".") for b in banned):
                out.append(f"{path.relative_to(SRC)} imports {name}")
    return out


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_respect_the_layering(package: str) -> None:
    if not (PACKAGE / package).is_dir():
        pytest.skip(f"no brook.{package} package")
    assert _violations(package) == []


def test_the_checker_sees_relative_type_checking_and_local_imports() -> None:
    source = ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ...broker.server import Broker\n"
              "from . import group\nfrom ..output import CoordinatorResult\ndef f():\n    import asyncio\n")
    names = imports_in(source, "brook.coordinator.group.membership")
    assert {"brook.broker.server", "brook.broker.server.Broker", "asyncio", "brook.coordinator.group.group",
            "brook.coordinator.output"} <= names
