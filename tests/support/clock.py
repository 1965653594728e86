"""The test suite's one clock: time that moves only when a test moves it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # 12:00 in Nairobi


class Clock:
    """A clock the test moves by hand: `clock()` is now, `clock.advance(seconds)` moves it.

    Pass the clock itself where production code takes `clock=` (a callable returning an aware
    datetime), and `clock.monotonic` where it takes a `time.monotonic`-like callable. It starts at
    `START` unless told otherwise; `Clock.from_real_now()` starts at the real time, for tests whose
    fakes check timestamps against the wall clock (the Daraja emulator).
    """

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    @classmethod
    def from_real_now(cls) -> Clock:
        return cls(datetime.now(UTC))

    def __call__(self) -> datetime:
        return self.now

    def monotonic(self) -> float:
        """Seconds, moving with `advance` (stands in for `time.monotonic`)."""
        return self.now.timestamp()

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
