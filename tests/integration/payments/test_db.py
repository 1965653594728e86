"""The storage layer on both databases: migrations, constraints, and the process-wide init."""

from __future__ import annotations

import asyncio
import contextvars
from datetime import UTC, datetime

import pytest
from tortoise.context import TortoiseContext
from tortoise.exceptions import IntegrityError
from tortoise.migrations.autodetector import MigrationAutodetector

from payments.db import close_db, init_db, migrate, ping, tortoise_config
from payments.models import Notification, NotificationKind, Payment, StoredState
from payments.states import PaymentStatus
from tests.support.db import TestDatabase, temporary_database

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


async def _payment(**overrides: object) -> Payment:
    fields: dict[str, object] = {
        "user_id": 7,
        "chat_id": 7,
        "amount": 100,
        "phone": "254712345678",
        "account_reference": "lipabot",
        "status": PaymentStatus.PENDING,
        "created_at": NOW,
        "updated_at": NOW,
    }
    fields.update(overrides)
    return await Payment.create(**fields)


async def test_migrated_schema_round_trips_a_payment(db: TestDatabase) -> None:
    payment = await _payment(checkout_request_id="ws_CO_1", user_id=2**40)
    stored = await Payment.get(id=payment.id)
    assert stored.user_id == 2**40  # BigInt column, Telegram ids exceed 32 bits
    assert stored.status is PaymentStatus.PENDING
    assert stored.created_at == NOW
    assert stored.created_at.tzinfo is not None
    assert await ping() is True


async def test_checkout_request_id_and_receipt_are_unique(db: TestDatabase) -> None:
    await _payment(checkout_request_id="ws_CO_1", receipt="RCP1")
    with pytest.raises(IntegrityError):
        await _payment(checkout_request_id="ws_CO_1")
    with pytest.raises(IntegrityError):
        await _payment(checkout_request_id="ws_CO_2", receipt="RCP1")
    # NULLs do not collide: drafts have neither yet.
    await _payment(status=PaymentStatus.CREATED)
    await _payment(status=PaymentStatus.CREATED)
    assert await Payment.filter(checkout_request_id__isnull=True).count() == 2


async def test_one_customer_notification_per_payment_and_kind(db: TestDatabase) -> None:
    payment = await _payment()
    row = {
        "payment_id": payment.id,
        "chat_id": payment.chat_id,
        "kind": NotificationKind.PAID,
        "next_attempt_at": NOW,
        "created_at": NOW,
    }
    await Notification.create(**row)
    with pytest.raises(IntegrityError):
        await Notification.create(**row)
    # Admin alerts for the same payment differ by chat and topic.
    for chat_id in (1000, 1001):
        await Notification.create(
            **{**row, "chat_id": chat_id, "kind": NotificationKind.ADMIN_ALERT, "topic": "x"}
        )
    assert await Notification.filter(payment_id=payment.id).count() == 3


async def test_stored_state_is_unique_per_namespace_and_key(db: TestDatabase) -> None:
    await StoredState.create(namespace="ptb", key="chat_data", value={"1": {"a": 1}})
    with pytest.raises(IntegrityError):
        await StoredState.create(namespace="ptb", key="chat_data", value={})
    await StoredState.create(namespace="other", key="chat_data", value=[1, 2])
    stored = await StoredState.get(namespace="ptb", key="chat_data")
    assert stored.value == {"1": {"a": 1}}
    assert stored.updated_at is not None


async def test_migrate_twice_is_a_no_op(db: TestDatabase) -> None:
    await _payment()
    await migrate(db.url)
    assert await Payment.all().count() == 1


def test_tortoise_config_names_the_app_and_migrations() -> None:
    config = tortoise_config("postgresql://u@h/d")
    assert list(config["connections"]) == ["postgres"]
    postgres = config["connections"]["postgres"]
    assert postgres["engine"] == "tortoise.backends.asyncpg"
    assert postgres["credentials"]["host"] == "h"
    assert postgres["credentials"]["database"] == "d"
    assert tortoise_config("sqlite://x.sqlite3")["connections"] == {"sqlite": "sqlite://x.sqlite3"}
    assert config["apps"]["models"]["models"] == ["payments.models"]
    assert config["apps"]["models"]["migrations"] == "migrations"
    assert config["use_tz"] is True
    assert config["timezone"] == "UTC"


async def test_init_db_serves_other_tasks_through_the_global_context(tmp_path) -> None:
    url = f"sqlite://{tmp_path / 'app.sqlite3'}"
    ctx = await init_db(url, run_migrations=True)
    try:
        assert ctx.inited

        async def in_a_fresh_context() -> int:
            return await Payment.all().count()

        # A task whose context does not carry ours (like uvicorn's request tasks).
        task = asyncio.get_running_loop().create_task(
            in_a_fresh_context(), context=contextvars.Context()
        )
        assert await task == 0
        assert await ping() is True
    finally:
        await close_db()
    assert await ping() is False


async def test_temporary_database_is_isolated_and_removed() -> None:
    async with temporary_database("sqlite") as first:
        await _payment()
        async with temporary_database("sqlite") as second:
            assert await Payment.all().count() == 0
            assert second.url != first.url
        assert await Payment.all().count() == 1


async def test_database_allows_one_waiting_payment_per_user_and_phone(db: TestDatabase) -> None:
    await _payment(user_id=1, phone="254711000000", status=PaymentStatus.PENDING)
    with pytest.raises(IntegrityError):
        await _payment(user_id=1, phone="254722000000", status=PaymentStatus.UNKNOWN)
    with pytest.raises(IntegrityError):
        await _payment(user_id=2, phone="254711000000", status=PaymentStatus.PUSHING)
    # Drafts, finished and flagged payments do not count.
    await _payment(user_id=1, phone="254711000000", status=PaymentStatus.CREATED)
    await _payment(user_id=1, phone="254711000000", status=PaymentStatus.PAID)
    await _payment(
        user_id=1, phone="254711000000", status=PaymentStatus.PENDING, flagged_reason="x"
    )
    assert await Payment.filter(user_id=1).count() == 4


async def test_migrations_describe_the_models_exactly() -> None:
    # A model change without a migration would make makemigrations produce a new file.
    config = tortoise_config("sqlite://:memory:")
    async with TortoiseContext() as ctx:
        await ctx.init(config=config)
        writers = await MigrationAutodetector(ctx.apps, config["apps"]).changes()
    assert [w.name for w in writers] == []


def test_postgres_connections_skip_the_session_reset_on_release() -> None:
    """No `RESET ALL`/`UNLISTEN *` round trip each time the pool takes a connection back.

    lipabot never changes session state (no SET, LISTEN, advisory locks or cursors), and
    asyncpg still rolls back a transaction left open before the connection is reused.
    """
    import asyncpg

    credentials = tortoise_config("postgres://u@h/d")["connections"]["postgres"]["credentials"]
    connection_class = credentials["connection_class"]
    assert issubclass(connection_class, asyncpg.Connection)
    assert connection_class.get_reset_query(None) == ""  # needs no live connection
