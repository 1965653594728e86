"""The tables: payments, their audit trail, the notification outbox, stored state, the inbox.

Every row that records money is written by `payments.service`; these classes only describe the
storage. Times are timezone-aware UTC (the tortoise config sets `use_tz=True`); the transaction
time Daraja reports is kept as the aware EAT instant it stands for.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.models import Model

from payments.states import PaymentStatus


class EventKind(StrEnum):
    """What an audit-trail row records."""

    CREATED = "created"
    PUSH_REQUESTED = "push_requested"
    PUSHED = "pushed"
    PUSH_FAILED = "push_failed"
    PUSH_UNKNOWN = "push_unknown"
    CALLBACK = "callback"
    QUERY = "query"
    QUERY_PENDING = "query_pending"
    QUERY_ERROR = "query_error"
    DUPLICATE = "duplicate"
    CONFLICT = "conflict"
    LATE_RESULT = "late_result"
    DETAILS = "details"
    AMOUNT_MISMATCH = "amount_mismatch"
    RECEIPT_CONFLICT = "receipt_conflict"
    UNKNOWN_CHECKOUT = "unknown_checkout"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    NOTIFIED = "notified"
    C2B = "c2b"  # a C2B confirmation applied (the move's event, like "callback")
    C2B_VALIDATION = "c2b_validation"  # a C2B validation request, kept
    ATTACHED = "attached"  # an admin attached an unmatched C2B payment to this one


class NotificationKind(StrEnum):
    """Which message the notifier sends; one customer message per (payment, kind)."""

    PAID = "paid"
    FAILED = "failed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    LATE_PAID = "late_paid"
    PUSH_FAILED = "push_failed"
    ADMIN_ALERT = "admin_alert"
    #: The receipt of a payment a query had already settled: the paid message gains it.
    RECEIPT = "receipt"
    #: Money arrived but the shop must check it (amount mismatch, reused receipt).
    FLAGGED = "flagged"
    #: To the admins and the staff chat: a payment came in.
    ANNOUNCE = "announce"


class NotificationStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    UNDELIVERABLE = "undeliverable"


class Payment(Model):
    """One STK push request and everything M-Pesa said about it."""

    id = fields.IntField(primary_key=True)
    user_id = fields.BigIntField(db_index=True)
    chat_id = fields.BigIntField()
    language = fields.CharField(max_length=8, default="en")
    amount = fields.IntField()
    phone = fields.CharField(max_length=16, db_index=True)
    account_reference = fields.CharField(max_length=32)
    #: The payer's Telegram name, for the shop's announcements (not used to match anything).
    customer_name = fields.CharField(max_length=64, null=True)
    #: This payment's own account number (`payments.accounts`): sent as the STK
    #: AccountReference and typed by a customer paying from the M-Pesa menu, so a C2B
    #: confirmation names its payment. `account_reference` keeps the shop's own reference.
    account_number = fields.CharField(max_length=12, null=True, unique=True)
    merchant_request_id = fields.CharField(max_length=64, null=True)
    checkout_request_id = fields.CharField(max_length=64, null=True, unique=True)
    status = fields.CharEnumField(PaymentStatus, max_length=16, db_index=True)
    result_code = fields.CharField(max_length=32, null=True)
    result_desc = fields.CharField(max_length=255, null=True)
    receipt = fields.CharField(max_length=32, null=True, unique=True)
    transaction_time = fields.DatetimeField(null=True)
    paid_amount = fields.IntField(null=True)
    status_message_id = fields.BigIntField(null=True)
    flagged_reason = fields.CharField(max_length=64, null=True)
    # Reconciliation: when to ask Daraja next, how often we asked, and who holds the lease.
    next_check_at = fields.DatetimeField(null=True, db_index=True)
    check_attempts = fields.IntField(default=0)
    claimed_by = fields.CharField(max_length=64, null=True)
    claimed_until = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()
    pushed_at = fields.DatetimeField(null=True)
    completed_at = fields.DatetimeField(null=True)

    events: fields.ReverseRelation[PaymentEvent]
    notifications: fields.ReverseRelation[Notification]

    class Meta:
        table = "payment"

    def __str__(self) -> str:
        return f"Payment #{self.id} {self.status}"


class PaymentEvent(Model):
    """The audit trail: every decision about a payment, with the raw Daraja body behind it."""

    id = fields.IntField(primary_key=True)
    payment: fields.ForeignKeyNullableRelation[Payment] = fields.ForeignKeyField(
        "models.Payment", related_name="events", null=True, on_delete=fields.CASCADE
    )
    checkout_request_id = fields.CharField(max_length=64, null=True, db_index=True)
    kind = fields.CharField(max_length=32)
    from_status = fields.CharField(max_length=16, null=True)
    to_status = fields.CharField(max_length=16, null=True)
    detail: fields.JSONField[Any] = fields.JSONField(null=True)
    raw_body: fields.JSONField[Any] = fields.JSONField(null=True)
    source = fields.CharField(max_length=16, default="service")
    created_at = fields.DatetimeField(db_index=True)

    payment_id: int | None

    class Meta:
        table = "payment_event"


class Notification(Model):
    """The outbox: a message owed to a chat, written in the same transaction as its cause.

    `topic` tells apart several admin alerts for one payment (amount mismatch, receipt
    conflict); customer messages leave it empty, so the unique key makes a second customer
    message of one kind for one payment impossible in the database itself.
    """

    id = fields.IntField(primary_key=True)
    payment: fields.ForeignKeyNullableRelation[Payment] = fields.ForeignKeyField(
        "models.Payment", related_name="notifications", null=True, on_delete=fields.CASCADE
    )
    chat_id = fields.BigIntField()
    user_id = fields.BigIntField(null=True)
    language = fields.CharField(max_length=8, default="en")
    kind = fields.CharEnumField(NotificationKind, max_length=16)
    topic = fields.CharField(max_length=32, default="")
    detail: fields.JSONField[Any] = fields.JSONField(null=True)
    status = fields.CharEnumField(
        NotificationStatus, max_length=16, default=NotificationStatus.PENDING, db_index=True
    )
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField(db_index=True)
    claimed_by = fields.CharField(max_length=64, null=True)
    claimed_until = fields.DatetimeField(null=True)
    last_error = fields.TextField(null=True)
    created_at = fields.DatetimeField()
    sent_at = fields.DatetimeField(null=True)

    payment_id: int | None

    class Meta:
        table = "notification"
        unique_together = (("payment", "kind", "chat_id", "topic"),)


class C2BStatus(StrEnum):
    MATCHED = "matched"  # settled (or confirmed) the payment it names
    UNMATCHED = "unmatched"  # no payment to settle: for the admins (`/unmatched`)
    ATTACHED = "attached"  # an admin attached it to a payment


class C2BPayment(Model):
    """Every C2B confirmation received, once per TransID (the M-Pesa receipt): nothing dropped.

    The payer's number is kept only as Daraja sent it masked, or as a SHA-256 digest
    (`daraja.c2b`): never a full number we did not already have.
    """

    id = fields.IntField(primary_key=True)
    trans_id = fields.CharField(max_length=32, unique=True)
    amount = fields.IntField()
    bill_ref = fields.CharField(max_length=64, default="")
    shortcode = fields.CharField(max_length=8)
    msisdn_masked = fields.CharField(max_length=24, default="")
    msisdn_hash = fields.CharField(max_length=64, null=True)
    first_name = fields.CharField(max_length=64, default="")
    transaction_type = fields.CharField(max_length=48, default="")
    trans_time = fields.DatetimeField(null=True)
    status = fields.CharEnumField(C2BStatus, max_length=16, db_index=True)
    #: Why it matched nothing (or how it matched): "no_account", "amount_mismatch", …
    note = fields.CharField(max_length=64, default="")
    payment: fields.ForeignKeyNullableRelation[Payment] = fields.ForeignKeyField(
        "models.Payment", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    attached_by = fields.BigIntField(null=True)
    raw_body: fields.JSONField[Any] = fields.JSONField(null=True)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    payment_id: int | None

    class Meta:
        table = "c2b_payment"


class StoredState(Model):
    """Small JSON documents by (namespace, key): PTB persistence and similar bookkeeping."""

    id = fields.IntField(primary_key=True)
    namespace = fields.CharField(max_length=64)
    key = fields.CharField(max_length=255)
    value: fields.JSONField[Any] = fields.JSONField(null=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "stored_state"
        unique_together = (("namespace", "key"),)


class InboundUpdate(Model):
    """The Telegram inbox: an update the webhook acknowledged, kept until it has been processed.

    Not payments' domain: the table lives here because lipabot has one tortoise app and one
    migration chain, and this is the module `payments.db` registers (like `StoredState`, which
    holds the bot's conversation state). It stores the update as Telegram sent it; only
    `bot.inbox` reads or writes it. `update_id` is unique, so a redelivered update is kept
    once; `chat_id`/`user_id` keep one chat's (and one user's) updates in order; the lease
    columns let several instances drain one inbox without processing an update twice.
    """

    id = fields.IntField(primary_key=True)
    update_id = fields.BigIntField(unique=True)
    chat_id = fields.BigIntField(null=True)
    user_id = fields.BigIntField(null=True)
    body: fields.JSONField[Any] = fields.JSONField()
    attempts = fields.IntField(default=0)
    claimed_by = fields.CharField(max_length=128, null=True)
    claimed_until = fields.DatetimeField(null=True)
    received_at = fields.DatetimeField()
    done_at = fields.DatetimeField(null=True, db_index=True)

    class Meta:
        table = "telegram_inbox"
