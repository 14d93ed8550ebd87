"""Repositories: exactly-once updates and claims, UTC round trips, follow-up replacement."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest

from storage import repos
from storage.db import Database

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    yield database
    database.dispose()


def test_an_update_is_marked_once(db: Database) -> None:
    with db.transaction() as tx:
        assert repos.mark_update(tx, 42, NOW)
    with db.transaction() as tx:
        assert not repos.mark_update(tx, 42, NOW)


def test_a_rolled_back_update_can_be_applied_again(db: Database) -> None:
    def crash_before_commit() -> None:
        with db.transaction() as tx:
            repos.mark_update(tx, 7, NOW)
            raise RuntimeError("crash before commit")

    with pytest.raises(RuntimeError):
        crash_before_commit()
    with db.transaction() as tx:
        assert repos.mark_update(tx, 7, NOW)


def test_times_come_back_aware_in_utc(db: Database) -> None:
    eastern = datetime(2026, 3, 2, 10, 0, tzinfo=timezone(timedelta(hours=-5)))
    with db.transaction() as tx:
        repos.enrol(tx, 5, "supporter", eastern)
    with db.transaction() as tx:
        person = repos.get_person(tx, 5)
        assert person is not None
        assert person.enrolled_at == eastern
        assert person.enrolled_at.tzinfo is not None
        assert person.enrolled_at.utcoffset() == timedelta(0)


def session(db: Database) -> int:
    with db.transaction() as tx:
        row = repos.new_session(tx, 5, {"status": "active"}, NOW)
        assert row.id is not None
        return row.id


def test_a_follow_up_is_claimed_only_once_and_only_when_due(db: Database) -> None:
    sid = session(db)
    with db.transaction() as tx:
        fid = repos.schedule_follow_up(tx, sid, 5, NOW + timedelta(hours=1), NOW).id
    assert fid is not None
    with db.transaction() as tx:
        assert repos.claim_due(tx, NOW, 10) == []
    later = NOW + timedelta(hours=1)
    with db.transaction() as tx:
        assert [row.id for row in repos.claim_due(tx, later, 10)] == [fid]
    with db.transaction() as tx:
        assert repos.claim_due(tx, later, 10) == []
        assert repos.next_wake(tx) is None


def test_a_claim_left_by_a_crash_is_released_and_due_at_once(db: Database) -> None:
    sid = session(db)
    with db.transaction() as tx:
        repos.schedule_follow_up(tx, sid, 5, NOW, NOW)
    with db.transaction() as tx:
        repos.claim_due(tx, NOW, 10)
    later = NOW + timedelta(hours=3)
    with db.transaction() as tx:
        assert repos.release_claimed(tx, NOW + timedelta(minutes=1), timedelta(minutes=2)) == 0
        assert repos.release_claimed(tx, later, timedelta(minutes=2)) == 1
        assert repos.next_wake(tx) == later


def test_scheduling_again_cancels_the_pending_follow_up(db: Database) -> None:
    sid = session(db)
    with db.transaction() as tx:
        repos.schedule_follow_up(tx, sid, 5, NOW + timedelta(hours=1), NOW)
        repos.schedule_follow_up(tx, sid, 5, NOW + timedelta(hours=2), NOW)
    with db.transaction() as tx:
        assert repos.next_wake(tx) == NOW + timedelta(hours=2)
        assert repos.next_check_in(tx, sid) == NOW + timedelta(hours=2)


def test_an_invite_is_spent_one_use_at_a_time(db: Database) -> None:
    with db.transaction() as tx:
        code = repos.create_invite(tx, "supporter", 2, NOW + timedelta(days=1), 1, NOW).code
    for left in (1, 0):
        with db.transaction() as tx:
            invite = repos.get_invite(tx, code, lock=True)
            assert invite is not None
            repos.use_invite(tx, invite)
            assert invite.uses_left == left


def test_old_processed_update_ids_are_pruned(db: Database) -> None:
    with db.transaction() as tx:
        repos.mark_update(tx, 1, NOW - timedelta(days=8))
        repos.mark_update(tx, 2, NOW)
    with db.transaction() as tx:
        assert repos.prune_updates(tx, NOW - timedelta(days=7)) == 1
    with db.transaction() as tx:
        assert repos.mark_update(tx, 1, NOW)
        assert not repos.mark_update(tx, 2, NOW)
