"""The cheaper log line redacts as much as the first one: secrets, phone numbers, typed numbers.

`config.logging` masks every typed number the bot's own `normalize_phone` accepts, and its
`LineFormatter` keeps the date per second and writes the message the filter rendered. These tests
hold the fast paths to the original behaviour, especially where one could skip masking: numbers at
the very start or end of a line, in arguments, in exception text, with spaces, dashes or +254.
"""

from __future__ import annotations

import io
import logging
import random
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from config.logging import (
    LOG_FORMAT,
    LineFormatter,
    LineStreamHandler,
    RedactingFilter,
    _mask_typed_phones,
)
from payments.errors import InvalidPhone
from payments.rules import normalize_phone

ROOT = Path(__file__).resolve().parents[3]
SECRETS = [
    "123456:TEST-bot-token-never-logged",
    "cs-Qm3Tz8Lp1Xv6Bn4Rw9Kd2Hs7Gf5Jc0Ye",
    "passkey-9f3a",
]

# The typed-number pattern as first written: the new masking hides at least what it hid.
_REFERENCE_TYPED = re.compile(r"(?<!\d)((?:\+?254|0)[ -]?[17]\d)(\d[ -]?\d{3}[ -]?)(\d{3})(?!\d)")


def reference_typed(text: str) -> str:
    return _REFERENCE_TYPED.sub(lambda m: m[1] + re.sub(r"\d", "•", m[2]) + m[3], text)


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("0712345678", "071••••678"),
        ("0712 345 678", "071• ••• 678"),
        ("0712-345-678", "071•-•••-678"),
        ("0 712 345 678", "0 71• ••• 678"),
        ("0110345678", "011••••678"),
        ("+254712345678", "+25471••••678"),
        ("+254 712 345 678", "+254 71• ••• 678"),
        ("254-712-345-678", "254-71•-•••-678"),
        ("x254712345678", "x25471••••678"),
        ("call 0712345678", "call 071••••678"),  # at the end
        ("0712345678 called", "071••••678 called"),  # at the start
        ("a+254712345678b", "a+25471••••678b"),
        ("10712345678", "10712345678"),  # a digit before: part of a longer number
        ("07123456789", "07123456789"),  # a digit after
        ("0812345678", "0812345678"),  # not 07/01
        ("1+254712345678", "1+25471••••678"),  # "+" is no digit: the number still counts
        # Every form the bot accepts (payments.rules.normalize_phone), as the issue listed:
        ("0712  345 678", "071•  ••• 678"),
        ("712345678", "71••••678"),
        ("00254712345678", "0025471••••678"),
        ("(0712) 345.678", "(071•) •••.678"),
        ("+254 (0) 712-345-678", "+254 (0) 71•-•••-678"),
        ("+254 0712 345 678", "+254 071• ••• 678"),
        ("0712345678 0722345678", "071••••678 072••••678"),
        ('"text": "0712.345.678"', '"text": "071•.•••.678"'),
        ("200 from 127.0.0.1 in 1.2 ms", "200 from 127.0.0.1 in 1.2 ms"),
        ("2026-12-02 07:35:25,908 INFO", "2026-12-02 07:35:25,908 INFO"),
        ("user 1012345678 chat -1001234567890", "user 1012345678 chat -1001234567890"),
    ],
)
def test_typed_numbers(text: str, masked: str) -> None:
    assert _mask_typed_phones(text) == masked


def _typed_number(rng: random.Random) -> str:
    """A number as someone might type it (0712 345 678, +254-712-...), or a near miss."""
    prefix = rng.choice(["0", "254", "+254", "0", "254", "+25", "00", "1"])
    first = rng.choice("1777770")
    rest = "".join(rng.choice("0123456789") for _ in range(rng.choice([7, 8, 8, 8, 8, 9])))
    digits = first + rest
    gaps = {3, 6}  # where people put a space or a dash: 0 712 345 678
    if rng.random() < 0.2:  # or anywhere
        gaps.add(rng.randint(1, len(digits) - 1))
    text = prefix + rng.choice(["", "", "", " ", "-"])
    for index, digit in enumerate(digits):
        if index in gaps:
            text += rng.choice(["", "", "", " ", "-", "  "])
        text += digit
    return text


def _accepted(text: str) -> str | None:
    try:
        return normalize_phone(text)
    except InvalidPhone:
        return None


def test_no_number_the_bot_accepts_survives_and_the_old_masks_still_apply() -> None:
    rng = random.Random(11)
    pieces = ["0", "7", "1", "2", "5", "4", "254", "+", " ", "-", "x", "•", "12", "345", "678", "9"]
    accepted = changed = 0
    for _ in range(30_000):
        parts = [rng.choice(pieces) for _ in range(rng.randint(0, 8))]
        numbers = [_typed_number(rng) for _ in range(rng.randint(0, 2))]
        for number in numbers:
            parts.insert(rng.randint(0, len(parts)), " " + number + " ")
        text = "".join(parts)
        masked = _mask_typed_phones(text)
        assert len(masked) == len(text)
        for number in numbers:
            phone = _accepted(number)
            if phone is not None:
                accepted += 1
                assert number not in masked, (text, masked)
        # Whatever the first pattern masked (and the bot accepts) is masked still.
        old = reference_typed(text)
        for match in _REFERENCE_TYPED.finditer(text):
            if _accepted(match[0]) is not None:
                span = range(match.start(), match.end())
                assert all(masked[i] == "•" for i in span if old[i] == "•"), text
        changed += masked != text
    assert accepted > 5_000 and changed > 5_000  # 8,624 and 10,338 with this seed


# ---------------------------------------------------------------- the filter + LineFormatter


@pytest.fixture
def capture() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A logger tree wired like `serve`'s root: handler with the filter and LineFormatter."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(LineFormatter(LOG_FORMAT))
    handler.addFilter(RedactingFilter(SECRETS))
    parent = logging.getLogger("fastpath_test")
    parent.propagate = False
    parent.setLevel(logging.DEBUG)
    parent.addHandler(handler)
    try:
        yield parent, stream
    finally:
        parent.removeHandler(handler)


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("254712345678", "2547•••••678"),
        ("0712345678", "071••••678"),
        ("0712 345 678", "071• ••• 678"),
        ("+254 712-345-678", "+254 71•-•••-678"),
        ("ws_CO_29112026171000123254712345678", "ws_CO_29112026171000123•••••••••678"),
    ],
)
def test_numbers_are_masked_in_message_args_and_exception_text(
    capture: tuple[logging.Logger, io.StringIO], number: str, masked: str
) -> None:
    _, stream = capture
    child = logging.getLogger("fastpath_test.any.module")  # records from any logger
    child.info(number)  # the whole message
    child.info(number + " paid")  # at the start
    child.info("paid by " + number)  # at the end
    child.info("payment #%d: %s", 7, number)  # in an argument, at the end
    child.warning("%s", number)  # an argument that is the whole line
    try:
        raise RuntimeError(number)
    except RuntimeError:
        child.exception("failed")  # in exception text
    lines = stream.getvalue()
    digits = re.sub(r"\D", "", number)
    assert digits not in re.sub(r"[ -]", "", lines)
    assert lines.count(masked) == 6
    assert f"RuntimeError: {masked}" in lines


def test_secrets_are_masked_in_message_args_and_exception_text(
    capture: tuple[logging.Logger, io.StringIO],
) -> None:
    _, stream = capture
    child = logging.getLogger("fastpath_test.httpx")
    child.info(f"GET https://api.telegram.org/bot{SECRETS[0]}/getMe")
    child.info("secret %s and %s", SECRETS[1], SECRETS[2])
    try:
        raise ValueError(f"{SECRETS[2]}:{SECRETS[1]}")
    except ValueError:
        child.exception("failed")
    output = stream.getvalue()
    for secret in SECRETS:
        assert secret not in output
    assert "/bot***/getMe" in output
    assert "secret *** and ***" in output
    assert "ValueError: ***:***" in output


class _ChangingArg:
    """Renders harmless first, then as a phone number: what is written must be what was checked."""

    def __init__(self) -> None:
        self.calls = 0

    def __str__(self) -> str:
        self.calls += 1
        return "nobody" if self.calls == 1 else "254712345678"


def test_the_line_written_is_the_line_the_filter_checked() -> None:
    arg = _ChangingArg()
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "payer %s", (arg,), None)
    RedactingFilter(SECRETS).filter(record)
    # logging.Formatter would render the message again, as "payer 254712345678".
    assert LineFormatter(LOG_FORMAT).format(record).endswith(" INFO x payer nobody")
    assert arg.calls == 1


def test_a_message_replaced_after_the_filter_is_rendered_again() -> None:
    formatter = LineFormatter(LOG_FORMAT)
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "before %s", ("a",), None)
    RedactingFilter(SECRETS).filter(record)
    record.msg, record.args = "after %s", ("b",)
    assert formatter.format(record).endswith(" INFO x after b")


# ---------------------------------------------------------------- LineFormatter = Formatter


def _record_pair(created: float, **kwargs: object) -> tuple[logging.LogRecord, logging.LogRecord]:
    pair = []
    for _ in range(2):
        record = logging.LogRecord(
            kwargs.get("name", "lipabot.access"),  # type: ignore[arg-type]
            kwargs.get("level", logging.INFO),  # type: ignore[arg-type]
            __file__,
            1,
            kwargs.get("msg", "%s %s %d"),
            kwargs.get("args", ("POST", "/x", 200)),  # type: ignore[arg-type]
            kwargs.get("exc_info"),  # type: ignore[arg-type]
            sinfo=kwargs.get("sinfo"),  # type: ignore[arg-type]
        )
        record.created = created
        record.msecs = int((created - int(created)) * 1000) + 0.0
        pair.append(record)
    return pair[0], pair[1]


def test_line_formatter_writes_what_logging_formatter_writes() -> None:
    ours, theirs = LineFormatter(LOG_FORMAT), logging.Formatter(LOG_FORMAT)
    try:
        raise KeyError("boom")
    except KeyError:
        exc_info = sys.exc_info()
    base = 1_796_000_000.0  # a whole second (2026-11-30)
    # Across second, minute and day boundaries, back and forth (the per-second cache).
    times = [base, base + 0.001, base + 0.999, base + 1.0, base + 0.5, base + 59.9996, base + 60]
    times += [base + 86_399.999, base + 86_400.0, base + 1.0, 1_000_000_000.25]
    kinds: list[dict[str, object]] = [
        {},
        {"msg": "no args", "args": None},
        {"msg": "dict %(a)s", "args": ({"a": 1},)},
        {"msg": ValueError("not a str"), "args": None, "level": logging.ERROR},
        {"msg": "ends with newline\n", "args": None, "exc_info": exc_info},
        {"msg": "with exc", "args": None, "exc_info": exc_info, "level": logging.WARNING},
        {"msg": "stack", "args": None, "sinfo": "Stack (most recent call last):\n  here"},
        {"msg": "%s", "args": ("payment #1 ✓ •",), "name": "payments.service"},
    ]
    for created in times:
        for kwargs in kinds:
            mine, stdlib = _record_pair(created, **kwargs)
            assert ours.format(mine) == theirs.format(stdlib)
            assert mine.asctime == stdlib.asctime


@pytest.mark.parametrize(
    ("line_buffering", "terminator"), [(True, "\n"), (False, "\n"), (True, ""), (False, "")]
)
def test_line_stream_handler_gets_each_line_out(line_buffering: bool, terminator: str) -> None:
    """Each line reaches the file at once: by the stream's own line flush, else by the handler's."""
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="utf-8", line_buffering=line_buffering)
    handler = LineStreamHandler(stream)
    handler.terminator = terminator
    handler.setFormatter(LineFormatter("%(levelname)s %(message)s"))
    handler.handle(logging.LogRecord("x", logging.INFO, __file__, 1, "paid %s", ("•",), None))
    assert raw.getvalue() == f"INFO paid •{terminator}".encode()
    handler.handle(logging.LogRecord("x", logging.ERROR, __file__, 1, "second", None, None))
    assert raw.getvalue() == f"INFO paid •{terminator}ERROR second{terminator}".encode()


def test_serve_logging_setup_end_to_end() -> None:
    """`configure_logging` as `serve` calls it: the format, redaction, nothing leaked."""
    script = textwrap.dedent(
        """
        import logging
        from pydantic import SecretStr
        from config.logging import configure_logging
        from config import Settings

        settings = Settings(
            _env_file=None,
            telegram_bot_token=SecretStr("123456:TEST-bot-token-never-logged"),
            mpesa_consumer_secret=SecretStr("cs-Qm3Tz8Lp1Xv6Bn4Rw9Kd2Hs7Gf5Jc0Ye"),
            mpesa_callback_token=SecretStr("cb-token-3f9a1c7e5b2d4a6f8e0c1b3d5f7a9c2e"),
            database_url="sqlite://:memory:",
            log_level="INFO",
        )
        configure_logging(settings)
        logging.getLogger("lipabot.access").info(
            "%s %s %d from %s in %.1f ms", "POST", "/payments/callback/***", 200, "127.0.0.1", 1.2
        )
        logging.getLogger("payments.service").info(
            "payment #%d: %s %s (code %s) -> %s [%s]",
            12, "callback", "ws_CO_29112026171000123254712345678", 0, "paid", "applied",
        )
        logging.getLogger("bot.conversation").debug("not at INFO 0712345678")
        logging.getLogger("httpx").warning(
            "GET https://api.telegram.org/bot123456:TEST-bot-token-never-logged/getMe"
        )
        try:
            raise RuntimeError("0712 345 678 cs-Qm3Tz8Lp1Xv6Bn4Rw9Kd2Hs7Gf5Jc0Ye")
        except RuntimeError:
            logging.getLogger("lipabot").exception("cb-token-3f9a1c7e5b2d4a6f8e0c1b3d5f7a9c2e")
        """
    )
    done = subprocess.run(  # noqa: S603 - our own interpreter and a constant script
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    stamp = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}"
    assert re.fullmatch(
        stamp
        + r" INFO lipabot\.access POST /payments/callback/\*\*\* 200 from 127\.0\.0\.1 in 1\.2 ms",
        lines[0],
    )
    assert re.fullmatch(
        stamp + r" INFO payments\.service payment #12: callback "
        r"ws_CO_29112026171000123•••••••••678 \(code 0\) -> paid \[applied\]",
        lines[1],
    )
    assert re.fullmatch(
        stamp + r" WARNING httpx GET https://api\.telegram\.org/bot\*\*\*/getMe", lines[2]
    )
    assert re.fullmatch(stamp + r" ERROR lipabot \*\*\*", lines[3])
    assert lines[4] == "Traceback (most recent call last):"
    assert lines[-1] == "RuntimeError: 071• ••• 678 ***"
    for leaked in ("TEST-bot-token", "cs-Qm3T", "cb-token", "254712345678", "0712", "not at INFO"):
        assert leaked not in done.stderr


@pytest.mark.parametrize(
    "typed", ["712345678", "00254712345678", "(0712) 345.678", "+254 (0) 712-345-678"]
)
def test_a_typed_number_in_a_debug_update_is_masked(
    capture: tuple[logging.Logger, io.StringIO], typed: str
) -> None:
    # PTB logs whole updates at DEBUG; the message text is what the customer typed.
    logger, stream = capture
    update = {"update_id": 1012340000, "message": {"chat": {"id": 4242}, "text": typed}}
    logger.getChild("telegram.ext").debug("Processing update %s", update)
    line = stream.getvalue()
    assert normalize_phone(typed) == "254712345678"
    assert typed not in line and "345" not in line
    assert "678" in line and "1012340000" in line  # the tail stays; ids are no phone numbers
