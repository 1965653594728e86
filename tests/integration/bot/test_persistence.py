"""DatabasePersistence stores JSON in stored_state, and nothing it should not."""

from __future__ import annotations

from bot.persistence import CONVERSATIONS, USER_DATA, DatabasePersistence
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
