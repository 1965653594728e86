"""Concurrent updates, but one at a time per chat and per user, in arrival order."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from telegram import Chat, Message, Update, User

from bot.app import PerChatUserUpdateProcessor


def _update(update_id: int, user_id: int, chat_id: int | None = None) -> Update:
    chat = Chat(chat_id if chat_id is not None else user_id, "private")
    user = User(user_id, "u", is_bot=False)
    message = Message(update_id, datetime.now(UTC), chat, from_user=user, text="hi")
    return Update(update_id, message=message)


class Recorder:
    def __init__(self) -> None:
        self.events: list[str] = []
        self.gates: dict[int, asyncio.Event] = {}

    async def handle(self, update: Update) -> None:
        self.events.append(f"start {update.update_id}")
        gate = self.gates.setdefault(update.update_id, asyncio.Event())
        await gate.wait()
        self.events.append(f"end {update.update_id}")


async def _feed(processor: PerChatUserUpdateProcessor, rec: Recorder, *updates: Update) -> list:
    # As PTB's update fetcher does: one task per update, created in queue order.
    return [asyncio.create_task(processor.process_update(u, rec.handle(u))) for u in updates]


async def test_different_users_run_at_the_same_time() -> None:
    processor, rec = PerChatUserUpdateProcessor(8), Recorder()
    tasks = await _feed(processor, rec, _update(1, 10), _update(2, 20))
    await asyncio.sleep(0.01)
    assert rec.events == ["start 1", "start 2"]  # the second did not wait for the first
    for gate in rec.gates.values():
        gate.set()
    await asyncio.gather(*tasks)


async def test_one_users_updates_run_one_at_a_time_in_arrival_order() -> None:
    processor, rec = PerChatUserUpdateProcessor(8), Recorder()
    tasks = await _feed(processor, rec, *(_update(i, 10) for i in range(1, 5)))
    for i in range(1, 5):
        await asyncio.sleep(0.01)
        assert rec.events[-1] == f"start {i}"  # only the oldest is running
        rec.gates[i].set()
    await asyncio.gather(*tasks)
    assert rec.events == [f"{what} {i}" for i in range(1, 5) for what in ("start", "end")]
    assert processor._locks == {}  # nothing left behind


async def test_a_user_in_a_group_waits_for_the_groups_earlier_update() -> None:
    processor, rec = PerChatUserUpdateProcessor(8), Recorder()
    group = -100
    # user 10 in the group, user 20 in the group (same chat), user 10 privately (same user)
    tasks = await _feed(
        processor, rec, _update(1, 10, group), _update(2, 20, group), _update(3, 10)
    )
    await asyncio.sleep(0.01)
    assert rec.events == ["start 1"]
    rec.gates[1].set()
    await asyncio.sleep(0.01)
    assert sorted(rec.events[1:]) == ["end 1", "start 2", "start 3"]
    rec.gates[2].set()
    rec.gates[3].set()
    await asyncio.gather(*tasks)


async def test_the_concurrency_bound_still_holds() -> None:
    processor, rec = PerChatUserUpdateProcessor(2), Recorder()
    tasks = await _feed(processor, rec, *(_update(i, 100 + i) for i in range(1, 5)))
    await asyncio.sleep(0.01)
    assert rec.events == ["start 1", "start 2"]
    rec.gates[1].set()
    await asyncio.sleep(0.01)
    assert rec.events[-1] == "start 3"
    for i in (2, 3, 4):
        rec.gates.setdefault(i, asyncio.Event()).set()
    await asyncio.gather(*tasks)
