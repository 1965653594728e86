"""The process's logging: one line format, and secrets kept out of every line.

`configure_logging(settings)` is called once per process by the command line (`cli.main`): a
root handler on stderr at LOG_LEVEL, `LOG_FORMAT` written by `LineFormatter`, and the redacting
filter. httpx logs each request URL at INFO, and Telegram URLs contain the bot token
(`https://api.telegram.org/bot<TOKEN>/sendMessage`); exception messages can carry it too.
`redact_secrets(settings)` installs a filter on the root logger's handlers (and on the root logger
itself) that replaces every configured secret with `***` in the rendered message, and masks phone
numbers (alone or inside CheckoutRequestIDs), which libraries log at DEBUG as SQL parameters.
"""

from __future__ import annotations

import logging
import re
import sys
import time
from collections.abc import Iterable

from config import Settings
from daraja.masking import redact as mask_phones
from payments.errors import InvalidPhone
from payments.rules import normalize_phone

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
MASK = "***"
URL_LOGGERS = ("httpx", "httpcore", "telegram", "telegram.ext", "apscheduler")
# Shorter strings would redact ordinary words; real secrets are long.
_MIN_SECRET_LENGTH = 6
# Numbers as customers type them ("0712345678", "712345678", "(0712) 345.678", "00254 712 345 678",
# "+254 (0) 712-345-678"): PTB logs whole updates, message text included, at DEBUG. A run of
# digits and the separators people type is a candidate; whatever in it `normalize_phone` (the
# bot's own rule) accepts is masked, so every number the bot would take is hidden in the logs.
# The run starts at a "+", "(" or a digit with no digit before it; the pattern begins with a
# character class so `re` skips quickly over text without digits.
_CANDIDATE = re.compile(r"[+(\d](?:(?<=[+(])|(?<!\d\d))[\d\s\-().]{7,}\d")
_GROUPS = re.compile(r"\+?\d+")
_DIGIT = re.compile(r"\d")
_NATIONAL_DIGITS = 9
_MAX_GROUPS = 6


#: The national number every number the bot accepts ends in: nine digits, checked on a span's
#: last nine digits before `normalize_phone` (which raises, slowly, for the many that are not).
_NATIONAL = re.compile(r"[17]\d{8}")  # as payments.rules._MOBILE


def _is_phone(text: str) -> bool:
    try:
        normalize_phone(text)
    except InvalidPhone:
        return False
    return True


def _masked_digits(text: str) -> list[int]:
    """Offsets of the digits to hide in `text` (one typed number): all but the prefix and the
    first two and the last three digits of the national number."""
    digits = [m.start() for m in _DIGIT.finditer(text)]
    keep_head = len(digits) - _NATIONAL_DIGITS + 2
    return digits[keep_head:-3]


def _mask_run(match: re.Match[str]) -> str:
    """Mask every number the bot would accept within one run of digits and separators.

    The run may hold several numbers, or digits that read as a number in more than one way
    ("10 0757 131 241": 100757131 and 0757131241); every reading the bot accepts is masked.
    """
    run = match[0]
    groups = list(_GROUPS.finditer(run))
    # A number ends where the digits so far end in a national number: find those ends first.
    digits, ends = "", []
    for j, group in enumerate(groups):
        digits += group[0].lstrip("+")
        if _NATIONAL.fullmatch(digits[-_NATIONAL_DIGITS:]):
            ends.append(j)
    if not ends:  # "196.201.214.200", "281120260705505": no number can end anywhere
        return run
    hidden: set[int] = set()
    for j in ends:
        end = groups[j].end()
        for i in range(j, max(-1, j - _MAX_GROUPS), -1):
            start = groups[i].start()
            if run[start - 1 : start].isdigit():
                continue  # starts inside a longer number
            number = run[start:end]
            if _is_phone(number):
                hidden.update(start + offset for offset in _masked_digits(number))
    if not hidden:
        return run
    return "".join("•" if i in hidden else char for i, char in enumerate(run))


def _mask_typed_phones(text: str) -> str:
    return _CANDIDATE.sub(_mask_run, text)


# Exception text is rendered (then redacted) by the filter; formatException keeps no state.
_EXCEPTION_FORMATTER = logging.Formatter()


class RedactingFilter(logging.Filter):
    """Replaces secrets in a record's message, arguments and exception text."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = sorted(
            {s for s in secrets if s and len(s) >= _MIN_SECRET_LENGTH}, key=len, reverse=True
        )

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        return _mask_typed_phones(mask_phones(text))

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = _EXCEPTION_FORMATTER.formatException(record.exc_info)
        # The record keeps the redacted text as its message, args used up: every formatter
        # writes exactly the line checked here (no second rendering, which an argument whose
        # str() changes could make differ) and renders nothing again.
        record.msg, record.args = self.redact(message), None
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        return True


class LineFormatter(logging.Formatter):
    """`logging.Formatter` with the same output for the same format, for less CPU per line.

    `%(asctime)s` is `time.strftime` of the record's second plus `,<milliseconds>`: the second's
    text is kept until the next second instead of being formatted for every record.
    """

    def __init__(self, fmt: str | None = None, datefmt: str | None = None) -> None:
        super().__init__(fmt, datefmt)
        self._second: tuple[int, str] = (-1, "")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        if datefmt or not self.default_msec_format:
            return super().formatTime(record, datefmt)
        second = int(record.created)  # what converter() rounds to (created is never negative)
        cached = self._second  # one tuple: a consistent pair even if another thread replaces it
        if cached[0] == second:
            prefix = cached[1]
        else:
            prefix = time.strftime(self.default_time_format, self.converter(record.created))
            self._second = (second, prefix)
        return self.default_msec_format % (prefix, record.msecs)


class LineStreamHandler(logging.StreamHandler):
    """`logging.StreamHandler` without its flush when the stream flushes at each line.

    `sys.stderr` is line-buffered: writing the line (which ends in a newline) has written it out
    already, and the flush after it (lock, flush of an empty buffer) is done for nothing. Any
    other stream (or terminator) is flushed as before.
    """

    def flush(self) -> None:
        if getattr(self.stream, "line_buffering", False) and "\n" in self.terminator:
            return
        super().flush()


def secrets_of(settings: Settings) -> list[str]:
    values = [
        settings.telegram_bot_token,
        settings.telegram_webhook_secret,
        settings.mpesa_consumer_key,
        settings.mpesa_consumer_secret,
        settings.mpesa_passkey,
        settings.mpesa_callback_token,
        settings.metrics_token,
    ]
    return [v.get_secret_value() for v in values if v is not None]


def redact_secrets(settings: Settings, *, logger: logging.Logger | None = None) -> RedactingFilter:
    """Install the redacting filter on `logger` (root by default) and all its handlers.

    Filters on a logger only see records logged to that logger itself, so the filter also goes on
    every handler, which sees records propagated from `httpx`, `telegram` and the rest. Call it
    after handlers are configured; records from httpx, httpcore and telegram are redacted at
    the source as well, so handlers added later are safe for those.
    """
    target = logger or logging.getLogger()
    filt = RedactingFilter(secrets_of(settings))
    target.addFilter(filt)
    for handler in target.handlers:
        handler.addFilter(filt)
    if logger is None:
        # The loggers that see Telegram URLs get it too: a record is redacted in place where it
        # is logged, so handlers added after this call never see the token either.
        for name in URL_LOGGERS:
            logging.getLogger(name).addFilter(filt)
    return filt


def configure_logging(settings: Settings | None, level: str | None = None) -> None:
    """Once per process: root handler at LOG_LEVEL, secrets redacted from every line."""
    chosen = (level or (settings.log_level if settings else "INFO")).strip().upper()
    if chosen not in logging.getLevelNamesMapping():
        chosen = "INFO"  # `check` reports the unknown LOG_LEVEL; logging must not crash first
    # LOG_FORMAT as logging.Formatter writes it, at less CPU per line (bench/logging_cost.py).
    handler = LineStreamHandler(sys.stderr)
    handler.setFormatter(LineFormatter(LOG_FORMAT))
    logging.basicConfig(level=chosen, handlers=[handler], force=True)
    # LOG_FORMAT shows no thread, process or multiprocessing name: every LogRecord would look
    # them up for nothing (the logging HOWTO's "Optimization" switches; ~1 µs a line).
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    # httpx logs every request URL at INFO, and Telegram URLs carry the bot token: the filter
    # masks it, and at WARNING the lines are not even produced.
    logging.getLogger("httpx").setLevel(max(logging.WARNING, logging.getLogger().level))
    if settings is not None:
        redact_secrets(settings)
