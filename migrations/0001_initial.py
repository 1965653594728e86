import functools
from json import dumps, loads

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.migrations import operations as ops

from payments.models import NotificationKind, NotificationStatus
from payments.states import PaymentStatus


class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name="Payment",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                ("user_id", fields.BigIntField(db_index=True)),
                ("chat_id", fields.BigIntField()),
                ("language", fields.CharField(default="en", max_length=8)),
                ("amount", fields.IntField()),
                ("phone", fields.CharField(db_index=True, max_length=16)),
                ("account_reference", fields.CharField(max_length=32)),
                ("merchant_request_id", fields.CharField(null=True, max_length=64)),
                ("checkout_request_id", fields.CharField(null=True, unique=True, max_length=64)),
                (
                    "status",
                    fields.CharEnumField(
                        db_index=True,
                        description="CREATED: created\nPUSHING: pushing\nPENDING: pending\nPAID: paid\nFAILED: failed\nCANCELLED: cancelled\nEXPIRED: expired\nPUSH_FAILED: push_failed\nUNKNOWN: unknown",
                        enum_type=PaymentStatus,
                        max_length=16,
                    ),
                ),
                ("result_code", fields.CharField(null=True, max_length=32)),
                ("result_desc", fields.CharField(null=True, max_length=255)),
                ("receipt", fields.CharField(null=True, unique=True, max_length=32)),
                (
                    "transaction_time",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
                ("paid_amount", fields.IntField(null=True)),
                ("status_message_id", fields.BigIntField(null=True)),
                ("flagged_reason", fields.CharField(null=True, max_length=64)),
                (
                    "next_check_at",
                    fields.DatetimeField(
                        null=True, db_index=True, auto_now=False, auto_now_add=False
                    ),
                ),
                ("check_attempts", fields.IntField(default=0)),
                ("claimed_by", fields.CharField(null=True, max_length=64)),
                (
                    "claimed_until",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("updated_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("pushed_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                (
                    "completed_at",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
            ],
            options={
                "table": "payment",
                "app": "models",
                "pk_attr": "id",
                "table_description": "One STK push request and everything M-Pesa said about it.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Notification",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "payment",
                    fields.ForeignKeyField(
                        "models.Payment",
                        source_field="payment_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="notifications",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("chat_id", fields.BigIntField()),
                ("user_id", fields.BigIntField(null=True)),
                ("language", fields.CharField(default="en", max_length=8)),
                (
                    "kind",
                    fields.CharEnumField(
                        description="PAID: paid\nFAILED: failed\nCANCELLED: cancelled\nEXPIRED: expired\nLATE_PAID: late_paid\nPUSH_FAILED: push_failed\nADMIN_ALERT: admin_alert",
                        enum_type=NotificationKind,
                        max_length=16,
                    ),
                ),
                ("topic", fields.CharField(default="", max_length=32)),
                (
                    "detail",
                    fields.JSONField(
                        null=True,
                        encoder=functools.partial(dumps, separators=(",", ":")),
                        decoder=loads,
                    ),
                ),
                (
                    "status",
                    fields.CharEnumField(
                        default=NotificationStatus.PENDING,
                        db_index=True,
                        description="PENDING: pending\nSENT: sent\nUNDELIVERABLE: undeliverable",
                        enum_type=NotificationStatus,
                        max_length=16,
                    ),
                ),
                ("attempts", fields.IntField(default=0)),
                (
                    "next_attempt_at",
                    fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False),
                ),
                ("claimed_by", fields.CharField(null=True, max_length=64)),
                (
                    "claimed_until",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
                ("last_error", fields.TextField(null=True, unique=False)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("sent_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "notification",
                "app": "models",
                "unique_together": (("payment", "kind", "chat_id", "topic"),),
                "pk_attr": "id",
                "table_description": "The outbox: a message owed to a chat, written in the same transaction as its cause.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="PaymentEvent",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "payment",
                    fields.ForeignKeyField(
                        "models.Payment",
                        source_field="payment_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="events",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("checkout_request_id", fields.CharField(null=True, db_index=True, max_length=64)),
                ("kind", fields.CharField(max_length=32)),
                ("from_status", fields.CharField(null=True, max_length=16)),
                ("to_status", fields.CharField(null=True, max_length=16)),
                (
                    "detail",
                    fields.JSONField(
                        null=True,
                        encoder=functools.partial(dumps, separators=(",", ":")),
                        decoder=loads,
                    ),
                ),
                (
                    "raw_body",
                    fields.JSONField(
                        null=True,
                        encoder=functools.partial(dumps, separators=(",", ":")),
                        decoder=loads,
                    ),
                ),
                ("source", fields.CharField(default="service", max_length=16)),
                (
                    "created_at",
                    fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False),
                ),
            ],
            options={
                "table": "payment_event",
                "app": "models",
                "pk_attr": "id",
                "table_description": "The audit trail: every decision about a payment, with the raw Daraja body behind it.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="StoredState",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                ("namespace", fields.CharField(max_length=64)),
                ("key", fields.CharField(max_length=255)),
                (
                    "value",
                    fields.JSONField(
                        null=True,
                        encoder=functools.partial(dumps, separators=(",", ":")),
                        decoder=loads,
                    ),
                ),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={
                "table": "stored_state",
                "app": "models",
                "unique_together": (("namespace", "key"),),
                "pk_attr": "id",
                "table_description": "Small JSON documents by (namespace, key): PTB persistence and similar bookkeeping.",
            },
            bases=["Model"],
        ),
    ]
