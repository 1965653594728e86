"""The Telegram inbox: every update the webhook acknowledged, kept until processed (`bot.inbox`).

The partial indexes serve the drain: the open rows in Telegram's order, and the open rows of one
chat or one user (an update waits while an earlier one of its chat or user is open).
"""

import functools
from json import dumps, loads

from tortoise import fields, migrations
from tortoise.migrations import operations as ops

OPEN = "done_at IS NULL"


class Migration(migrations.Migration):
    dependencies = [("models", "0002_one_waiting_payment")]

    initial = False

    operations = [
        ops.CreateModel(
            name="InboundUpdate",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                ("update_id", fields.BigIntField(unique=True)),
                ("chat_id", fields.BigIntField(null=True)),
                ("user_id", fields.BigIntField(null=True)),
                (
                    "body",
                    fields.JSONField(
                        encoder=functools.partial(dumps, separators=(",", ":")), decoder=loads
                    ),
                ),
                ("attempts", fields.IntField(default=0)),
                ("claimed_by", fields.CharField(null=True, max_length=128)),
                (
                    "claimed_until",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
                ("received_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                (
                    "done_at",
                    fields.DatetimeField(
                        null=True, db_index=True, auto_now=False, auto_now_add=False
                    ),
                ),
            ],
            options={
                "table": "telegram_inbox",
                "app": "models",
                "pk_attr": "id",
                "table_description": "The Telegram inbox: an update the webhook acknowledged, kept until it has been processed.",
            },
            bases=["Model"],
        ),
        ops.RunSQL(
            [
                f"CREATE INDEX telegram_inbox_open ON telegram_inbox (update_id) WHERE {OPEN}",
                f"CREATE INDEX telegram_inbox_open_chat ON telegram_inbox (chat_id, update_id) WHERE {OPEN}",
                f"CREATE INDEX telegram_inbox_open_user ON telegram_inbox (user_id, update_id) WHERE {OPEN}",
            ],
            reverse_sql=[
                "DROP INDEX telegram_inbox_open",
                "DROP INDEX telegram_inbox_open_chat",
                "DROP INDEX telegram_inbox_open_user",
            ],
        ),
    ]
