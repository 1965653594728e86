"""DatabasePersistence stores JSON in stored_state, and nothing it should not; several
instances share it (compare-and-set conversation writes, no stale user_data overwrites)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bot.persistence import CONVERSATIONS, USER_DATA, DatabasePersistence, StoredConversation
from payments.models import StoredState
from tests.support.db import TestDatabase


async def test_user_data_round_trip_refresh_and_drop(sqlite_db: TestDatabase) -> None:
    store = DatabasePersistence()
    await store.update_user_data(42, {"lang": "sw", "draft": {"amount": 500}})
    assert await store.get_user_data() == {42: {"lang": "sw", "draft": {"amount": 500}}}
    row = await StoredState.get(namespace=USER_DATA, key="42")
    assert row.value == {"lang": "sw", "draft": {"amount": 500}}  # JSON, not a pickle

    stale = {"lang": "en", "old": True}
    await store.refresh_user_data(42, stale)
    assert stale == {"lang": "sw", "draft": {"amount": 500}}
    unknown = {"lang": "en"}
    await store.refresh_user_data(7, unknown)
    assert unknown == {"lang": "en"}  # nothing stored: left alone

    await store.drop_user_data(42)
    assert await store.get_user_data() == {}


async def test_conversation_states_by_key_and_ending(sqlite_db: TestDatabase) -> None:
    store = DatabasePersistence()
    await store.update_conversation("pay", (42, 42), 1)
    await store.update_conversation("pay", (43, 43), 2)
    await store.update_conversation("pay", (42, 42), 2)
    assert await store.get_conversations("pay") == {(42, 42): 2, (43, 43): 2}
    await store.update_conversation("pay", (42, 42), None)  # conversation ended
    assert await store.get_conversations("pay") == {(43, 43): 2}
    assert await store.get_conversations("other") == {}
    assert await StoredState.filter(namespace=CONVERSATIONS + "pay").count() == 1


async def test_chat_and_bot_data_are_not_stored(sqlite_db: TestDatabase) -> None:
    store = DatabasePersistence()
    assert not store.store_data.bot_data and not store.store_data.chat_data
    await store.update_chat_data(1, {"x": 1})
    await store.update_bot_data({"services": object()})
    assert await StoredState.all().count() == 0


# ------------------------------------------------------------------ shared by several instances


async def test_conversation_row_carries_state_time_and_version(db: TestDatabase) -> None:
    at = datetime(2026, 11, 28, 9, 30, tzinfo=UTC)
    store = DatabasePersistence(clock=lambda: at)
    await store.update_conversation("pay", (42, 42), 1)
    row = await StoredState.get(namespace=CONVERSATIONS + "pay", key="[42, 42]")
    assert row.value["state"] == 1 and row.value["at"] == at.isoformat()
    stored = await DatabasePersistence().read_conversation("pay", (42, 42))
    assert stored == StoredConversation(state=1, at=at, version=row.value["v"])
    assert await DatabasePersistence().get_conversations("pay") == {(42, 42): 1}


async def test_write_based_on_an_old_read_is_dropped(db: TestDatabase) -> None:
    here, there = DatabasePersistence(), DatabasePersistence()
    await here.update_conversation("pay", (42, 42), 0)
    await there.read_conversation("pay", (42, 42))
    await there.update_conversation("pay", (42, 42), 1)  # the customer moved on, over there
    await here.update_conversation("pay", (42, 42), None)  # e.g. a late in-process timeout
    assert (await there.read_conversation("pay", (42, 42))).state == 1  # type: ignore[union-attr]

    await here.read_conversation("pay", (42, 42))  # after reading, this instance may write
    await here.update_conversation("pay", (42, 42), 2)
    assert (await there.read_conversation("pay", (42, 42))).state == 2  # type: ignore[union-attr]


async def test_only_one_of_two_instances_starting_a_conversation_wins(db: TestDatabase) -> None:
    first, second = DatabasePersistence(), DatabasePersistence()
    assert await first.read_conversation("pay", (42, 42)) is None
    assert await second.read_conversation("pay", (42, 42)) is None
    await asyncio.gather(
        first.update_conversation("pay", (42, 42), 1),
        second.update_conversation("pay", (42, 42), 2),
    )
    assert await StoredState.filter(namespace=CONVERSATIONS + "pay").count() == 1
    stored = await DatabasePersistence().read_conversation("pay", (42, 42))
    assert stored is not None and stored.state in (1, 2)


async def test_claiming_a_conversation_for_its_timeout(db: TestDatabase) -> None:
    here, there = DatabasePersistence(), DatabasePersistence()
    await here.update_conversation("pay", (1, 1), 0)
    assert await here.claim_conversation("pay", (1, 1)) is True
    assert await here.claim_conversation("pay", (1, 1)) is False  # already ended
    assert await there.read_conversation("pay", (1, 1)) is None

    await here.update_conversation("pay", (2, 2), 0)
    await there.read_conversation("pay", (2, 2))
    await there.update_conversation("pay", (2, 2), 1)
    assert await here.claim_conversation("pay", (2, 2)) is False  # moved on elsewhere
    assert await there.claim_conversation("pay", (2, 2)) is True

    assert await DatabasePersistence().claim_conversation("pay", (3, 3)) is False  # never was


async def test_staleness_follows_the_clock_and_the_timeout(db: TestDatabase) -> None:
    start = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
    store = DatabasePersistence(clock=lambda: start)
    await store.update_conversation("pay", (42, 42), 1)
    stored = await store.read_conversation("pay", (42, 42))
    assert stored is not None
    store.clock = lambda: start + timedelta(seconds=59)
    assert not store.is_stale(stored, 60)
    store.clock = lambda: start + timedelta(seconds=60)
    assert store.is_stale(stored, 60)
    assert not store.is_stale(stored, None)  # no timeout configured: never stale


async def test_rows_from_before_versions_still_load_and_end(db: TestDatabase) -> None:
    await StoredState.create(namespace=CONVERSATIONS + "pay", key="[42, 42]", value=2)
    store = DatabasePersistence()
    assert await store.get_conversations("pay") == {(42, 42): 2}
    stored = await store.read_conversation("pay", (42, 42))
    assert stored is not None and stored.state == 2 and stored.at is None
    assert not store.is_stale(stored, 60)  # no time stored: left to the next step
    assert await store.claim_conversation("pay", (42, 42)) is True


async def test_unchanged_user_data_is_not_written_over_a_newer_copy(db: TestDatabase) -> None:
    here, there = DatabasePersistence(), DatabasePersistence()
    await here.update_user_data(42, {"lang": "en"})
    mine = {"lang": "wrong"}
    await here.refresh_user_data(42, mine)
    await there.update_user_data(42, {"lang": "sw"})  # the newer copy

    await here.update_user_data(42, mine)  # PTB's periodic flush of an untouched copy
    assert (await StoredState.get(namespace=USER_DATA, key="42")).value == {"lang": "sw"}

    mine["draft"] = {"amount": 500}  # changed here: written (the whole dict, last writer wins)
    await here.update_user_data(42, mine)
    stored = await StoredState.get(namespace=USER_DATA, key="42")
    assert stored.value["draft"] == {"amount": 500}


async def test_who_is_stored_with_the_state_and_stale_ones_are_listed(db: TestDatabase) -> None:
    start = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
    store = DatabasePersistence(clock=lambda: start)
    who = {"chat": {"id": 42, "type": "private"}, "user": {"id": 42, "language_code": "sw"}}
    store.remember_who("pay", (42, 42), who)
    await store.update_conversation("pay", (42, 42), 0)
    await store.update_conversation("pay", (42, 42), 1)  # a later step keeps it
    store.clock = lambda: start + timedelta(seconds=30)
    await store.update_conversation("pay", (43, 43), 0)
    stored = await store.read_conversation("pay", (42, 42))
    assert stored is not None and stored.who == who
    assert (await store.read_conversation("pay", (43, 43))).who is None  # type: ignore[union-attr]

    other = DatabasePersistence(clock=lambda: start + timedelta(seconds=70))
    stale = await other.stale_conversations("pay", 60)
    assert [key for key, _ in stale] == [(42, 42)]
    assert await other.stale_conversations("pay", None) == []
    assert await other.claim_conversation("pay", (42, 42)) is True  # listed = seen = claimable
