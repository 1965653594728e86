"""C2B: each payment's own account number, and every C2B confirmation received.

`payment.account_number` (unique) is sent as the STK AccountReference and typed by customers who
pay from the M-Pesa menu; `c2b_payment` keeps each confirmation once per TransID, matched to its
payment or waiting for an admin (`/unmatched`, `/attach`).
"""

import functools
from json import dumps, loads

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.migrations import operations as ops

from payments.models import C2BStatus


class Migration(migrations.Migration):
    dependencies = [("models", "0003_telegram_inbox")]

    initial = False

    operations = [
        ops.CreateModel(
            name="C2BPayment",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                ("trans_id", fields.CharField(unique=True, max_length=32)),
                ("amount", fields.IntField()),
                ("bill_ref", fields.CharField(default="", max_length=64)),
                ("shortcode", fields.CharField(max_length=8)),
                ("msisdn_masked", fields.CharField(default="", max_length=24)),
                ("msisdn_hash", fields.CharField(null=True, max_length=64)),
                ("first_name", fields.CharField(default="", max_length=64)),
                ("transaction_type", fields.CharField(default="", max_length=48)),
                ("trans_time", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                (
                    "status",
                    fields.CharEnumField(
                        db_index=True,
                        description="MATCHED: matched\nUNMATCHED: unmatched\nATTACHED: attached",
                        enum_type=C2BStatus,
                        max_length=16,
                    ),
                ),
                (
                    "note",
                    fields.CharField(
                        default="",
                        description='Why it matched nothing (or how it matched): "no_account", "amount_mismatch", …',
                        max_length=64,
                    ),
                ),
                (
                    "payment",
                    fields.ForeignKeyField(
                        "models.Payment",
                        source_field="payment_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name=False,
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                ("attached_by", fields.BigIntField(null=True)),
                (
                    "raw_body",
                    fields.JSONField(
                        null=True,
                        encoder=functools.partial(dumps, separators=(",", ":")),
                        decoder=loads,
                    ),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("updated_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "c2b_payment",
                "app": "models",
                "pk_attr": "id",
                "table_description": "Every C2B confirmation received, once per TransID (the M-Pesa receipt): nothing dropped.",
            },
            bases=["Model"],
        ),
        ops.AddField(
            model_name="Payment",
            name="account_number",
            field=fields.CharField(
                null=True,
                unique=True,
                description="This payment's own account number (`payments.accounts`): sent as the STK",
                max_length=12,
            ),
        ),
    ]
