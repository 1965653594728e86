"""The Telegram inbox table (`bot.inbox.Inbox`) on SQLite and PostgreSQL: kept once per
update_id, leased to one instance, taken over after a crash, one chat's updates in order."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from telegram import Update

from bot.context import inbox_of
from bot.inbox import Inbox
from offline.fake_telegram import FakeUser
from payments.models import InboundUpdate
from tests.support.bot import BotHarness
from tests.support.clock import Clock
from tests.support.db import TestDatabase


def body(update_id: int, chat: int) -> dict[str, Any]:
    return {"update_id": update_id, "message": {"chat": {"id": chat}, "text": f"#{update_id}"}}


async def keep(inbox: Inbox, update_id: int, chat: int) -> str:
    return await inbox.accept(update_id, body(update_id, chat), chat_id=chat, user_id=chat)


async def test_an_update_is_kept_once_and_leased_to_the_instance_that_acknowledged_it(
    db: TestDatabase,
) -> None:
    clock = Clock()
    a = Inbox(owner="a", clock=clock)
    assert await keep(a, 100, chat=1) == "held"
    assert await keep(a, 100, chat=1) == "duplicate"  # Telegram sent it again
    assert await Inbox(owner="b", clock=clock).accept(100, {}, chat_id=1, user_id=1) == "duplicate"
    row = await InboundUpdate.get(update_id=100)
    assert (row.claimed_by, row.attempts, row.body) == ("a", 1, body(100, 1))
    assert await Inbox(owner="b", clock=clock).claim(10) == []  # a's lease holds
    assert await a.mark_done(100) is True
    assert await a.mark_done(100) is False
    assert await keep(a, 100, chat=1) == "duplicate"  # done rows still recognise it
    assert await a.backlog() == 0


async def test_a_crashed_instances_updates_are_claimed_after_its_lease(db: TestDatabase) -> None:
    clock = Clock()
    crashed = Inbox(owner="crashed", lease_seconds=30, clock=clock)
    for update_id in (1, 2, 3):
        assert await keep(crashed, update_id, chat=10 + update_id) == "held"
    b = Inbox(owner="b", clock=clock)
    clock.advance(29)
    assert await b.claim(10) == []
    clock.advance(2)
    taken = await b.claim(10)
    assert [(r.update_id, r.claimed_by, r.attempts) for r in taken] == [
        (1, "b", 2),
        (2, "b", 2),
        (3, "b", 2),
    ]


async def test_renewed_leases_are_not_taken_and_released_ones_are_at_once(
    db: TestDatabase,
) -> None:
    clock = Clock()
    a = Inbox(owner="a", lease_seconds=30, clock=clock)
    b = Inbox(owner="b", lease_seconds=30, clock=clock)
    await keep(a, 1, chat=1)
    clock.advance(20)
    assert await a.renew() == 1
    clock.advance(20)  # 40 s after accepting, 20 s after the renewal
    assert await b.claim(10) == []
    assert await a.release() == 1
    assert [r.update_id for r in await b.claim(10)] == [1]


async def test_one_chats_updates_wait_for_the_earlier_one_held_elsewhere(
    db: TestDatabase,
) -> None:
    clock = Clock()
    a = Inbox(owner="a", clock=clock)
    b = Inbox(owner="b", clock=clock)
    assert await keep(a, 1, chat=7) == "held"
    # The next update of chat 7 reaches instance b while a still works on the first.
    assert await keep(b, 2, chat=7) == "waiting"
    assert await keep(b, 3, chat=8) == "held"
    assert await keep(b, 4, chat=7) == "waiting"
    assert await b.claim(10) == []
    await a.mark_done(1)
    assert [r.update_id for r in await b.claim(10)] == [2, 4]  # both, in Telegram's order


async def test_a_claim_cut_by_its_limit_never_takes_a_later_update_of_a_chat(
    db: TestDatabase,
) -> None:
    clock = Clock()
    crashed = Inbox(owner="crashed", lease_seconds=1, clock=clock)
    for update_id, chat in ((1, 5), (2, 6), (3, 5)):
        await keep(crashed, update_id, chat)
    clock.advance(2)
    b = Inbox(owner="b", clock=clock)
    assert [r.update_id for r in await b.claim(1)] == [1]
    assert [r.update_id for r in await b.claim(1)] == [2]
    assert await b.claim(1) == []  # 3 waits for 1 (chat 5) to be done
    await b.mark_done(1)
    assert [r.update_id for r in await b.claim(1)] == [3]


async def test_the_same_user_in_two_chats_is_kept_in_order(db: TestDatabase) -> None:
    clock = Clock()
    a, b = Inbox(owner="a", clock=clock), Inbox(owner="b", clock=clock)
    await a.accept(1, body(1, 1), chat_id=1, user_id=99)
    assert await b.accept(2, body(2, 2), chat_id=2, user_id=99) == "waiting"
    assert await b.accept(3, {"update_id": 3}, chat_id=None, user_id=None) == "held"


async def test_concurrent_claimers_never_share_a_row(db: TestDatabase) -> None:
    clock = Clock()
    crashed = Inbox(owner="crashed", lease_seconds=1, clock=clock)
    for update_id in range(1, 61):
        await keep(crashed, update_id, chat=update_id)
    clock.advance(2)
    claimers = [Inbox(owner=f"i{n}", clock=clock) for n in range(4)]
    taken: list[int] = []
    while True:
        rounds = await asyncio.gather(*(c.claim(7) for c in claimers))
        got = [row.update_id for rows in rounds for row in rows]
        if not got:
            break
        taken += got
    assert sorted(taken) == list(range(1, 61))


async def test_done_rows_are_pruned_after_the_keep_period(db: TestDatabase) -> None:
    clock = Clock()
    a = Inbox(owner="a", clock=clock)
    await keep(a, 1, chat=1)
    await keep(a, 2, chat=2)
    await a.mark_done(1)
    clock.advance(3 * 24 * 3600)
    assert await a.prune() == 1
    assert [r.update_id for r in await InboundUpdate.all()] == [2]


async def test_the_update_processor_marks_done_or_hands_back_what_failed(
    bot: BotHarness, customer: FakeUser
) -> None:
    worker = inbox_of(bot.app)
    processor = bot.app.update_processor
    data = bot.fake.command(customer, "help")
    update = Update.de_json(data, bot.app.bot)
    await worker.inbox.accept(update.update_id, data, chat_id=customer.id, user_id=customer.id)
    worker.held.add(update.update_id)  # as `accept` does before queuing it

    async def fails() -> None:
        raise RuntimeError("escaped PTB's own error handling")

    with pytest.raises(RuntimeError):
        await processor.process_update(update, fails())
    row = await InboundUpdate.get(update_id=update.update_id)
    assert (row.claimed_by, row.done_at) == (None, None)  # claimable again at once
    [again] = await worker.inbox.claim(10)
    assert (again.update_id, again.attempts) == (update.update_id, 2)
    worker.held.add(update.update_id)

    async def works() -> None:
        return None

    await processor.process_update(update, works())
    row = await InboundUpdate.get(update_id=update.update_id)
    assert row.done_at is not None and row.claimed_by is None
    assert row.body == {}  # what the customer typed is not kept once processed
    assert worker.held == set()
