"""Follow-up benchmark: restart-to-ready with many pending follow-ups, resident memory, and how
late a burst of pings due at the same moment goes out. Each figure is reported with a baseline
measured in the same run (an empty database; the same sends made directly), because these
machines are noisy and only ratios compare across runs."""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from bot.app import build_application, start_services, stop_services
from bot.fake_api import FakeBotApi
from bot.settings import load_settings
from storage.db import Database, upgrade
from storage.models import FollowUp, GuideSession, Person

RESULTS = Path(__file__).with_name("results")
TARGETS = {"ready_s": 2.0, "rss_mb": 200.0, "lateness_p99_s": 1.0}


def rss_mb() -> float:
    """Resident memory of this process now, in MB."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


class TimedApi(FakeBotApi):
    """The offline Bot API, noting when each message was sent."""

    sent_at: list[float]

    def _answer(self, name: str, params: dict[str, Any]) -> Any:
        if name == "sendMessage":
            self.sent_at.append(time.time())
        return super()._answer(name, params)


def seed(url: str, pending: int, burst: int, burst_at: datetime) -> None:
    """Many follow-ups spread over a month, and a burst all due at `burst_at`."""
    db = Database(url)
    now = datetime.now(UTC)
    with db.transaction() as tx:
        tx.add(Person(id=1, role="supporter", created_at=now))
        tx.add(
            GuideSession(
                id=1,
                person_id=1,
                status="paused",
                state={"status": "paused"},
                version=1,
                created_at=now,
                updated_at=now,
            )
        )
    rows = []
    for n in range(pending):
        due = now + timedelta(hours=1, seconds=n * 25)
        rows.append(
            {
                "session_id": 1,
                "person_id": 1,
                "due_at": due,
                "next_action_at": due,
                "status": "pending",
                "created_at": now,
                "exact": True,
            }
        )
    rows += [
        {
            "session_id": 1,
            "person_id": 1,
            "due_at": burst_at,
            "next_action_at": burst_at,
            "status": "pending",
            "created_at": now,
            "exact": True,
        }
    ] * burst
    with db.engine.begin() as conn:
        for start in range(0, len(rows), 20_000):
            conn.execute(insert(FollowUp), rows[start : start + 20_000])
    db.dispose()


async def restart(url: str, api: FakeBotApi) -> tuple[float, Any]:
    """Build and start the bot as a process would; seconds until it is ready."""
    settings = replace(load_settings({}), database_url=url)
    began = time.perf_counter()
    app = build_application(settings, request=api, rate_limit=False)
    await app.initialize()
    await start_services(app)
    return time.perf_counter() - began, app


async def stop(app: Any) -> None:
    """Shut the bot down."""
    await app.shutdown()
    await stop_services(app)


async def direct_burst(burst: int) -> list[float]:
    """Baseline, the framework's ceiling: the same check-in message (HTML and five buttons) sent
    straight through python-telegram-bot, all at one moment, with no database or scheduler."""
    import asyncio

    from telegram import InlineKeyboardButton, InlineKeyboardMarkup
    from telegram.constants import ParseMode

    api = TimedApi()
    api.sent_at = []
    settings = load_settings({})
    app = build_application(
        replace(settings, database_url="sqlite://"), request=api, rate_limit=False
    )
    await app.initialize()
    text = app.bot_data["services"].renderer.text("checkin.due", case=1, label="")
    markup = InlineKeyboardMarkup(
        [[InlineKeyboardButton(f"answer {n}", callback_data=f"c1:1:a{n}")] for n in range(5)]
    )
    due = time.time()
    await asyncio.gather(
        *(
            app.bot.send_message(1, text, parse_mode=ParseMode.HTML, reply_markup=markup)
            for _ in range(burst)
        )
    )
    await app.shutdown()
    return [t - due for t in api.sent_at]


def pct(values: list[float], p: float) -> float:
    """The p-th percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


async def main(pending: int, burst: int) -> None:
    """Run the benchmark and write its results."""
    import asyncio

    with tempfile.TemporaryDirectory() as folder:
        empty_url = f"sqlite:///{folder}/empty.sqlite3"
        upgrade(empty_url)
        baseline_ready, app = await restart(empty_url, FakeBotApi())
        await stop(app)

        url = f"sqlite:///{folder}/bench.sqlite3"
        upgrade(url)
        burst_at = datetime.now(UTC) + timedelta(seconds=20)
        seed(url, pending, burst, burst_at)
        rss_before = rss_mb()
        api = TimedApi()
        api.sent_at = []
        ready, app = await restart(url, api)
        rss_ready = rss_mb()
        while len(api.sent_at) < burst and datetime.now(UTC) < burst_at + timedelta(seconds=60):
            await asyncio.sleep(0.05)
        rss_after = rss_mb()
        await stop(app)
        lateness = [t - burst_at.timestamp() for t in api.sent_at]
    direct = await direct_burst(burst)
    results: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "pending": pending,
        "burst": burst,
        "sent": len(lateness),
        "ready_s": round(ready, 3),
        "baseline_ready_empty_db_s": round(baseline_ready, 3),
        "ready_ratio_to_empty": round(ready / baseline_ready, 2),
        "rss_mb_at_ready": round(rss_ready, 1),
        "rss_mb_after_burst": round(rss_after, 1),
        "rss_mb_before_start": round(rss_before, 1),
        "lateness_p50_s": round(statistics.median(lateness), 3) if lateness else None,
        "lateness_p99_s": round(pct(lateness, 99), 3) if lateness else None,
        "direct_send_p50_s": round(statistics.median(direct), 3),
        "direct_send_p99_s": round(pct(direct, 99), 3),
        "cpu_count": os.cpu_count(),
    }
    results["lateness_p99_ratio_to_direct"] = (
        round(results["lateness_p99_s"] / max(results["direct_send_p99_s"], 1e-3), 1)
        if lateness
        else None
    )
    results["targets"] = TARGETS
    results["met"] = {
        "ready": results["ready_s"] <= TARGETS["ready_s"],
        "rss": results["rss_mb_after_burst"] <= TARGETS["rss_mb"],
        "lateness_p99": bool(lateness)
        and len(lateness) == burst
        and results["lateness_p99_s"] <= TARGETS["lateness_p99_s"],
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "followups.json").write_text(json.dumps(results, indent=2) + "\n")
    (RESULTS / "followups.md").write_text(markdown(results))
    print(markdown(results))


def markdown(r: dict[str, Any]) -> str:
    """The results as a small table."""
    t, met = r["targets"], r["met"]
    rows = [
        (
            "restart to ready",
            f"{r['ready_s']} s",
            f"{r['baseline_ready_empty_db_s']} s (empty database)",
            f"{r['ready_ratio_to_empty']}×",
            f"≤ {t['ready_s']} s",
            met["ready"],
        ),
        (
            "resident memory",
            f"{r['rss_mb_after_burst']} MB (at ready {r['rss_mb_at_ready']} MB)",
            f"{r['rss_mb_before_start']} MB before start",
            "—",
            f"≤ {t['rss_mb']} MB",
            met["rss"],
        ),
        (
            "burst lateness p50",
            f"{r['lateness_p50_s']} s",
            f"{r['direct_send_p50_s']} s (direct sends)",
            "—",
            "—",
            "—",
        ),
        (
            "burst lateness p99",
            f"{r['lateness_p99_s']} s",
            f"{r['direct_send_p99_s']} s (direct sends)",
            f"{r['lateness_p99_ratio_to_direct']}×",
            f"≤ {t['lateness_p99_s']} s",
            met["lateness_p99"],
        ),
    ]
    table = "\n".join("| " + " | ".join(str(cell) for cell in row) + " |" for row in rows)
    return f"""# Follow-up benchmark ({r["when"]})

{r["pending"]:,} pending follow-ups plus a burst of {r["burst"]:,} due at the same moment,
SQLite, offline Bot API, {r["cpu_count"]} cores. Baselines are measured in the same run.

| measure | result | baseline (same run) | ratio | target | met |
|---|---|---|---|---|---|
{table}

Sent {r["sent"]:,} of {r["burst"]:,} burst pings. The direct-send baseline is the framework's
ceiling on this machine: the same message through python-telegram-bot with no database or
scheduler. On real Telegram a bot may send about 30 messages a second, so a real burst of this
size is paced by Telegram, not by the bot.
"""
