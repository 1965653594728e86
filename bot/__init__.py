"""lipabot's Telegram face: PTB wiring, conversation and admin handlers, texts, the notifier."""

import os

# Opt in to PTB's future behaviour now: time periods (RetryAfter.retry_after, ...) as timedeltas.
# Without it PTB 22 emits a deprecation warning every time it raises RetryAfter, which the test
# suite (warnings are errors) and the logs would both trip over. setdefault leaves an explicit
# operator choice alone.
os.environ.setdefault("PTB_TIMEDELTA", "true")
