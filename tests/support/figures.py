"""The figures the reliability suite reports: payments driven, faults injected, losses, duplicates,
and how the callback route answered hostile bodies (refused, kept for audit, or a 5xx).

Tests add to one process-wide `FIGURES`; `conftest.py` prints it at the end of the run. A test
that counts a loss or a duplicate also fails on its own assertion, so the printed zeros are
backed by assertions, not just by this tally.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class Figures:
    payments: Counter[str] = field(default_factory=Counter)  # per test family
    faults: Counter[str] = field(default_factory=Counter)  # per fault kind
    lost: int = 0
    duplicates: int = 0
    #: Hostile callback bodies sent with the right token, by the status the route answered.
    hostile_answers: Counter[int] = field(default_factory=Counter)
    hostile_kept: int = 0  # of those, kept as a rejected callback (the audit row exists)
    #: Payments whose customer messages were checked against M-Pesa's final word, and the
    #: messages that said something M-Pesa did not ("Nothing was charged" for money taken,
    #: "Paid" for money not taken).
    truth_checked: int = 0
    untrue: int = 0

    def drove(self, family: str, count: int = 1) -> None:
        self.payments[family] += count

    def injected(self, fault: str, count: int = 1) -> None:
        self.faults[fault] += count

    def hostile_callback(self, status: int, *, kept: bool) -> None:
        """A hostile body reached the callback route: what it answered, whether it was kept."""
        self.hostile_answers[status] += 1
        self.hostile_kept += int(kept)

    def delivered(self, expected: dict[int, int], actual: dict[int, int]) -> None:
        """Compare messages owed per chat with messages delivered per chat."""
        for chat, owed in expected.items():
            got = actual.get(chat, 0)
            self.lost += max(0, owed - got)
            self.duplicates += max(0, got - owed)

    def checked_truth(self, messages: list[str], *, paid: bool) -> int:
        """Count what the customer read about one payment that M-Pesa did not say."""
        self.truth_checked += 1
        wrong = [
            m
            for m in messages
            if ("Nothing was charged" in m and paid) or (m.startswith("Paid ✓") and not paid)
        ]
        self.untrue += len(wrong)
        return len(wrong)

    def render(self) -> list[str]:
        lines = [
            f"payments driven: {sum(self.payments.values())} "
            + "("
            + ", ".join(f"{k} {v}" for k, v in sorted(self.payments.items()))
            + ")",
            f"faults injected: {sum(self.faults.values())} "
            + "("
            + ", ".join(f"{k} {v}" for k, v in sorted(self.faults.items()))
            + ")",
            f"messages lost: {self.lost}",
            f"duplicate messages sent: {self.duplicates}",
        ]
        if self.truth_checked:
            lines.append(
                f"customers told something M-Pesa did not say: {self.untrue} "
                f"({self.truth_checked} payments checked)"
            )
        if self.hostile_answers:
            answers = self.hostile_answers
            refused = sum(n for status, n in answers.items() if 400 <= status < 500)
            server_errors = sum(n for status, n in answers.items() if status >= 500)
            lines.append(
                f"hostile callback bodies: {sum(answers.values())} sent, {refused} refused "
                f"with 4xx, {self.hostile_kept} kept for audit, {server_errors} answered 5xx"
            )
        return lines


FIGURES = Figures()
