"""One pace for everything the bot sends: Telegram's flood limits, with priorities.

Telegram lets a bot send about 30 messages a second overall and about one a second in one chat
(20 a minute in a group), and answers `429 retry_after` beyond that. `SendLimiter` is a PTB
`BaseRateLimiter` (installed with `ApplicationBuilder.rate_limiter`), so every Bot API call the
bot makes passes through it at the request seam: conversation replies, edits, the notifier's
receipts, admin messages, the daily summary.

* Calls that send or edit a message (`send*` but chat actions, `edit*`, `copy*`, `forward*`)
  wait for a token from the chat's bucket (one a second, a short burst; slower in groups), then
  from the bot's bucket (`rate` a second). Other calls (answering a button tap, getMe,
  setMyCommands …) go straight through.
* Calls for one chat leave in the order they were made. Between chats, the bot's tokens go to
  the most urgent waiting call first: `Priority.OUTCOME` (receipts and failure outcomes), then
  `Priority.REPLY` (answers to the customer who is typing), then `Priority.ADMIN` (admin
  messages and summaries); within a priority, in the order their causes arrived (the update
  being answered, `sending_as(..., since=…)`), else first come, first served.
* The priority comes from `rate_limit_args={"priority": …}` when a caller passes one, else from
  the context it runs in (`sending_as(Priority.ADMIN)` around a block), else `REPLY`.
* A `429` pauses every limited call of this bot for `retry_after` seconds (Telegram's flood
  control is per bot, not per chat), then the call is made again, up to `max_retries` times;
  after that the `RetryAfter` reaches the caller. The notifier asks for no retry here
  (`retry=False`): its outbox row is retried after `retry_after` anyway, durably.

Several instances share one bot token, so they share Telegram's budget: each instance is
configured with its share (`TELEGRAM_SEND_RATE`, e.g. 25 / number of instances); a 429 that one
instance still meets pauses that instance. See docs/TELEGRAM_LIMITS.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import math
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import timedelta
from enum import IntEnum
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

log = logging.getLogger(__name__)

#: Messages a second for the whole bot: a little under Telegram's ~30.
RATE = 25.0
#: One message a second in a chat, after a short burst (a reply is often two messages).
CHAT_RATE = 1.0
CHAT_BURST = 2
#: Telegram allows 20 messages a minute in a group.
GROUP_RATE = 20 / 60
GROUP_BURST = 2
MAX_RETRIES = 3
# Forget full (idle) per-chat buckets once this many chats have one.
_PRUNE_EVERY = 4096


class Priority(IntEnum):
    """Who goes first when the bot's budget is short: lower is sooner."""

    OUTCOME = 0  # receipts and failure outcomes: the customer's money
    REPLY = 1  # answers to the customer who is typing
    ADMIN = 2  # admin messages, alerts, summaries


_priority: ContextVar[Priority] = ContextVar("lipabot_send_priority", default=Priority.REPLY)
_retry: ContextVar[bool] = ContextVar("lipabot_send_retry", default=True)
_since: ContextVar[float | None] = ContextVar("lipabot_send_since", default=None)
_max_wait: ContextVar[float | None] = ContextVar("lipabot_send_max_wait", default=None)


@contextlib.contextmanager
def sending_as(
    priority: Priority,
    *,
    retry: bool = True,
    since: float | None = None,
    max_wait: float | None = None,
) -> Iterator[None]:
    """Calls made inside this block (and in tasks it starts) go out with `priority`.

    `retry=False`: after a 429 the bot still pauses, but the call is not made again here; the
    `RetryAfter` goes to the caller at once (the notifier's outbox retries the row itself).
    `since` (the limiter's clock): when the cause arrived, e.g. the update being answered.
    Within a priority, calls are served in that order, so the second message of an answer
    does not queue behind every update that arrived while the first one waited.
    `max_wait`: a call still waiting for its turn after this many seconds is not made; it
    raises `RetryAfter` instead (the notifier's lease must not lapse while a row waits here).
    """
    tokens = (
        _priority.set(priority),
        _retry.set(retry),
        _since.set(since),
        _max_wait.set(max_wait),
    )
    try:
        yield
    finally:
        _priority.reset(tokens[0])
        _retry.reset(tokens[1])
        _since.reset(tokens[2])
        _max_wait.reset(tokens[3])


def current_priority() -> Priority:
    return _priority.get()


def is_limited(endpoint: str) -> bool:
    """Whether a Bot API method puts a message in a chat (and so counts against the limits)."""
    name = endpoint.lower()
    if name == "sendchataction":
        return False
    return name.startswith(("send", "edit", "copy", "forward"))


class Bucket:
    """A token bucket: `rate` tokens a second, at most `burst` saved up."""

    __slots__ = ("_at", "_tokens", "burst", "rate")

    def __init__(self, rate: float, burst: float, now: float) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self.rate = rate
        self.burst = float(burst)
        self._tokens = float(burst)
        self._at = now

    def _refill(self, now: float) -> None:
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
        self._at = now

    def wait(self, now: float) -> float:
        """Seconds until a token is there (0 when one is)."""
        self._refill(now)
        return 0.0 if self._tokens >= 1 else (1 - self._tokens) / self.rate

    def take(self, now: float) -> None:
        self._refill(now)
        self._tokens -= 1

    def idle(self, now: float) -> bool:
        return self._tokens + (now - self._at) * self.rate >= self.burst


@dataclass(order=True)
class _Waiter:
    priority: int
    since: float
    ticket: int
    granted: asyncio.Future[None] = field(compare=False)


class SendLimiter(BaseRateLimiter[dict[str, Any]]):
    """Paces one bot's sends: per chat, overall, by priority, and after a 429 (module doc)."""

    def __init__(
        self,
        *,
        rate: float = RATE,
        burst: int | None = None,
        chat_rate: float = CHAT_RATE,
        chat_burst: int = CHAT_BURST,
        group_rate: float = GROUP_RATE,
        group_burst: int = GROUP_BURST,
        max_retries: int = MAX_RETRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`rate` 0: no overall pace of our own; `chat_rate` 0: none per chat (nor per group).

        429 answers are honoured either way.
        """
        self.rate = rate
        self.chat_rate = chat_rate
        self._clock = clock
        self._overall = Bucket(rate, burst or max(1, int(rate)), clock()) if rate > 0 else None
        self._chat = (chat_rate, chat_burst) if chat_rate > 0 else None
        self._group = (min(group_rate, chat_rate), group_burst) if chat_rate > 0 else None
        self.max_retries = max_retries
        self._chats: dict[int | str, Bucket] = {}
        self._chat_locks: dict[int | str, list[Any]] = {}
        self._queue: list[_Waiter] = []
        self._tickets = itertools.count()
        self._wake = asyncio.Event()
        self._dispatcher: asyncio.Task[None] | None = None
        self._paused_until = 0.0
        #: 429 answers met, and seconds paused because of them (for metrics and benches).
        self.retry_afters = 0
        self.paused_seconds = 0.0

    async def initialize(self) -> None:
        """Nothing to open: the dispatcher starts with the first call that has to wait."""

    async def shutdown(self) -> None:
        if self._dispatcher is not None:
            self._dispatcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._dispatcher
            self._dispatcher = None
        for waiter in self._queue:
            waiter.granted.cancel()
        self._queue.clear()

    @property
    def waiting(self) -> int:
        """Calls waiting for the bot's budget right now."""
        return sum(1 for w in self._queue if not w.granted.done())

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: dict[str, Any] | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        if not is_limited(endpoint):
            return await callback(*args, **kwargs)
        options = rate_limit_args or {}
        priority = Priority(options.get("priority", current_priority()))
        retries = self.max_retries if options.get("retry", _retry.get()) else 0
        since = _since.get()
        chat = data.get("chat_id")
        turn = (since if since is not None else self._clock(), next(self._tickets))
        max_wait = options.get("max_wait", _max_wait.get())
        for attempt in itertools.count():
            await self._turn(chat, priority, turn, max_wait)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                seconds = _seconds(exc.retry_after)
                self._pause(seconds)
                if attempt >= retries:
                    raise
                log.warning(
                    "Telegram flood control on %s: every send waits %.1fs (retry %d)",
                    endpoint,
                    seconds,
                    attempt + 1,
                )
        raise AssertionError("unreachable")  # pragma: no cover

    # ------------------------------------------------------------------ waiting

    async def _turn(
        self, chat: object, priority: Priority, turn: tuple[float, int], max_wait: float | None
    ) -> None:
        """`_acquire`, given up after `max_wait` seconds (nothing sent: RetryAfter)."""
        if max_wait is None:
            await self._acquire(chat, priority, turn)
            return
        try:
            async with asyncio.timeout(max_wait):
                await self._acquire(chat, priority, turn)
        except TimeoutError:
            wait = max(1, math.ceil(self._pause_left()))
            raise RetryAfter(wait) from None

    async def _acquire(self, chat: object, priority: Priority, turn: tuple[float, int]) -> None:
        """The chat's token (in the chat's order), then the bot's (in priority order)."""
        key = chat if isinstance(chat, int | str) else None
        if key is None or self._chat is None:
            await self._overall_turn(priority, turn)
            return
        async with self._chat_turn(key):
            bucket = self._bucket(key)
            for _ in itertools.count():  # the chat's next token (a 429 pause may push it back)
                delay = max(bucket.wait(self._clock()), self._pause_left())
                if delay <= 0:
                    break
                await asyncio.sleep(delay)
            await self._overall_turn(priority, turn)
            bucket.take(self._clock())

    async def _overall_turn(self, priority: Priority, turn: tuple[float, int]) -> None:
        if not self._queue and self._pause_left() <= 0 and self._overall_ready():
            self._take_overall()
            return
        granted: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._queue, _Waiter(int(priority), *turn, granted))
        self._ensure_dispatcher()
        self._wake.set()
        await granted

    def _overall_ready(self) -> bool:
        return self._overall is None or self._overall.wait(self._clock()) <= 0

    def _take_overall(self) -> None:
        if self._overall is not None:
            self._overall.take(self._clock())

    def _ensure_dispatcher(self) -> None:
        if self._dispatcher is None or self._dispatcher.done():
            self._dispatcher = asyncio.get_running_loop().create_task(
                self._dispatch(), name="lipabot-send-limiter"
            )

    async def _dispatch(self) -> None:
        """Hand the bot's tokens to waiting calls, most urgent first, as they come due."""
        while True:
            while self._queue and self._queue[0].granted.done():
                heapq.heappop(self._queue)  # its caller gave up (cancelled)
            if not self._queue:
                self._wake.clear()
                await self._wake.wait()
                continue
            now = self._clock()
            delay = max(
                self._pause_left(), self._overall.wait(now) if self._overall is not None else 0.0
            )
            if delay > 0:
                await asyncio.sleep(delay)
                continue
            waiter = heapq.heappop(self._queue)
            self._take_overall()
            waiter.granted.set_result(None)

    # ------------------------------------------------------------------ 429

    def _pause(self, seconds: float) -> None:
        self.retry_afters += 1
        until = self._clock() + seconds
        if until > self._paused_until:
            self.paused_seconds += until - max(self._paused_until, self._clock())
            self._paused_until = until

    def _pause_left(self) -> float:
        return max(0.0, self._paused_until - self._clock())

    # ------------------------------------------------------------------ chats

    def _chat_turn(self, key: int | str) -> contextlib.AbstractAsyncContextManager[None]:
        return keyed_lock(self._chat_locks, key)

    def _bucket(self, key: int | str) -> Bucket:
        bucket = self._chats.get(key)
        if bucket is None:
            now = self._clock()
            if len(self._chats) >= _PRUNE_EVERY:
                self._prune(now)
            group = isinstance(key, str) or key < 0
            pace = self._group if group else self._chat
            assert pace is not None
            rate, burst = pace
            bucket = self._chats[key] = Bucket(rate, burst, now)
        return bucket

    def _prune(self, now: float) -> None:
        for key in [k for k, b in self._chats.items() if b.idle(now)]:
            if key not in self._chat_locks:
                del self._chats[key]


def _seconds(value: object) -> float:
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value)  # type: ignore[arg-type]


@contextlib.asynccontextmanager
async def keyed_lock(locks: dict[Any, list[Any]], key: Any) -> AsyncIterator[None]:
    """Hold the lock for `key` in `locks` (key -> [lock, holders and waiters]), first come first
    served; the entry is dropped when nobody needs it, so the dict does not grow unbounded."""
    entry = locks.setdefault(key, [asyncio.Lock(), 0])
    entry[1] += 1
    try:
        async with entry[0]:
            yield
    finally:
        entry[1] -= 1
        if entry[1] == 0:
            del locks[key]
