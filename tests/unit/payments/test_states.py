import pytest

from payments.states import (
    FINAL_STATES,
    TRANSITIONS,
    InvalidTransition,
    check_move,
)
from payments.states import (
    PaymentStatus as S,
)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (S.CREATED, S.PUSHING),
        (S.PUSHING, S.PENDING),
        (S.PUSHING, S.UNKNOWN),
        (S.PUSHING, S.PUSH_FAILED),
        (S.PENDING, S.PAID),
        (S.UNKNOWN, S.PAID),
        (S.EXPIRED, S.PAID),
        # Paid from the M-Pesa menu after the prompt came to nothing (a C2B confirmation).
        (S.FAILED, S.PAID),
        (S.CANCELLED, S.PAID),
        (S.PUSH_FAILED, S.PAID),
    ],
)
def test_allowed_moves(current: S, target: S) -> None:
    check_move(current, target)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (S.PAID, S.FAILED),
        (S.CREATED, S.PAID),
        (S.PENDING, S.PUSHING),
        (S.FAILED, S.CANCELLED),
        (S.PUSH_FAILED, S.PENDING),
    ],
)
def test_refused_moves(current: S, target: S) -> None:
    with pytest.raises(InvalidTransition):
        check_move(current, target)


def test_final_states_lead_nowhere_but_to_paid() -> None:
    assert {S.PAID, S.FAILED, S.CANCELLED, S.PUSH_FAILED} == FINAL_STATES
    for state in FINAL_STATES:
        assert TRANSITIONS[state] <= {S.PAID}
    assert TRANSITIONS[S.PAID] == frozenset()
