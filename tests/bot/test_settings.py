"""Settings: defaults, and one clear line naming the setting when a value is bad."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bot.settings import DEFAULT_DATABASE_URL, SettingsError, load_settings


def test_defaults_need_nothing_but_run_offline() -> None:
    settings = load_settings({})
    assert settings.token is None
    assert settings.database_url == DEFAULT_DATABASE_URL
    assert settings.coordinator_ids == frozenset()


def test_values_are_read() -> None:
    settings = load_settings(
        {
            "TELEGRAM_BOT_TOKEN": "123456:ABCdefGHIjklMNOpqrSTUvwx",
            "COORDINATOR_IDS": "1, 22,333",
            "TELEGRAM_BASE_URL": "http://127.0.0.1:8081/bot",
            "TIMEZONE": "Europe/Madrid",
        }
    )
    assert settings.coordinator_ids == {1, 22, 333}
    assert settings.base_url == "http://127.0.0.1:8081/bot"
    assert settings.timezone == "Europe/Madrid"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TELEGRAM_BOT_TOKEN", "not-a-token"),
        ("TELEGRAM_BASE_URL", "127.0.0.1:8081"),
        ("DATABASE_URL", "nonsense"),
        ("COORDINATOR_IDS", "alice,bob"),
        ("TIMEZONE", "Mars/Olympus"),
        ("CONTENT_DIR", "/no/such/folder"),
    ],
)
def test_a_bad_setting_is_named(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=f"^{name}:"):
        load_settings({name: value})


def test_the_command_line_fails_with_one_line_naming_the_setting(tmp_path: object) -> None:
    env = {**os.environ, "TIMEZONE": "Mars/Olympus"}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "db", "upgrade"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        cwd=str(tmp_path),
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "configuration error: TIMEZONE: unknown time zone 'Mars/Olympus' (use a name like "
        "America/Chicago)"
    ]
