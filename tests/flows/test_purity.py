"""flows/ stays pure: no Telegram, ORM, scheduler, environment or shell imports (test and ruff)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

FLOWS = Path(__file__).resolve().parents[2] / "flows"
BANNED = {
    "telegram",
    "sqlmodel",
    "sqlalchemy",
    "apscheduler",
    "dotenv",
    "bot",
    "storage",
    "sklearn",  # the learned crisis model is scored in plain Python
}


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("path", sorted(FLOWS.rglob("*.py")), ids=lambda p: p.name)
def test_flow_modules_import_nothing_from_the_shell_or_io_libraries(path: Path) -> None:
    assert imported_roots(path) & BANNED == set()


@pytest.mark.parametrize("module", ["telegram.ext", "sqlmodel", "apscheduler", "dotenv"])
def test_ruff_rejects_a_banned_import_inside_flows(module: str) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "ruff",
            "check",
            "--no-cache",
            "--stdin-filename",
            str(FLOWS / "example.py"),
            "-",
        ],
        input=f"import {module}\n",
        capture_output=True,
        text=True,
        check=False,
        cwd=FLOWS.parent,
    )
    assert result.returncode == 1
    assert "TID251" in result.stdout
