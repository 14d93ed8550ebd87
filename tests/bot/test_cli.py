"""The command line: invite links, database upgrades, and the demo when no token is set."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path


def run(
    args: list[str], tmp_path: Path, stdin: str = "", **env: str
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATABASE_"))}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env={**clean, **env},
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
        timeout=120,
    )


def test_invite_prints_the_link_on_its_own_line(tmp_path: Path) -> None:
    result = run(
        ["invite", "supporter", "--uses", "3"],
        tmp_path,
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        TELEGRAM_BOT_USERNAME="ProgramPeerBot",
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    assert re.fullmatch(r"https://t\.me/ProgramPeerBot\?start=[A-Za-z0-9_-]{16}", lines[0])


def test_invite_without_a_username_or_token_explains_what_to_set(tmp_path: Path) -> None:
    result = run(
        ["invite", "supporter"], tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}"
    )
    assert result.returncode == 2
    assert "TELEGRAM_BOT_USERNAME" in result.stderr


def test_db_upgrade_creates_the_sqlite_file(tmp_path: Path) -> None:
    result = run(["db", "upgrade"], tmp_path, DATABASE_URL="sqlite:///nested/dir/db.sqlite3")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "nested" / "dir" / "db.sqlite3").exists()


def test_run_without_a_token_starts_the_demo(tmp_path: Path) -> None:
    result = run(["run"], tmp_path, stdin="/guide\n1\n:quit\n")
    assert result.returncode == 0, result.stderr
    assert "starting the terminal demo" in result.stdout
    assert "Step 2 of 5 · Hear their story" in result.stdout
    assert (tmp_path / "data" / "demo.sqlite3").exists()


def test_a_database_that_cannot_be_opened_fails_with_one_line(tmp_path: Path) -> None:
    result = run(["db", "upgrade"], tmp_path, DATABASE_URL="mysql://nobody@127.0.0.1:1/none")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "configuration error: DATABASE_URL: cannot open the database (ModuleNotFoundError)"
    ]


def test_run_against_an_unreachable_server_fails_with_one_line(tmp_path: Path) -> None:
    result = run(
        ["run"],
        tmp_path,
        TELEGRAM_BOT_TOKEN="123456:ABCdefGHIjklMNOpqrSTUvwx",
        TELEGRAM_BASE_URL="http://127.0.0.1:9/bot",
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        "configuration error: TELEGRAM_BASE_URL: cannot reach the Bot API server"
    )
