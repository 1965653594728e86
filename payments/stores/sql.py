"""SQL shared by the PostgreSQL paths: names from model metadata, values as $n parameters.

Every name spliced into SQL text here comes from model metadata or the constants below; every
value travels as a parameter. The column lists and the defaults the ORM would fill in are
written once, here, for every raw statement (`payments.stores.postgres`, `payments.outbox`).
"""

# ruff: noqa: S608  (names spliced into SQL come from model metadata; values are $n params)

from __future__ import annotations

import json
from enum import Enum
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from payments.models import Payment

EVENT_COLUMNS = (
    "payment_id, checkout_request_id, kind, from_status, to_status, detail, raw_body, source, "
    "created_at"
)
NOTE_COLUMNS = (
    "payment_id, chat_id, user_id, language, kind, topic, status, attempts, next_attempt_at, "
    "created_at"
)
# The ORM applies model defaults in Python, so raw SQL must spell them out.
NOTE_TOPIC = ""
NOTE_STATUS = "pending"


def is_postgres(conn: BaseDBAsyncClient) -> bool:
    return getattr(conn.capabilities, "dialect", "") == "postgres"


def connection() -> BaseDBAsyncClient:
    """The connection the ORM would use for payments (honours tortoise's current context)."""
    return Payment._meta.db


def table(model: type[Any]) -> str:
    return f'"{model._meta.db_table}"'


def column(name: str) -> str:
    """A payment field's column; anything that is not one is refused."""
    db_column = Payment._meta.fields_db_projection.get(name)
    if db_column is None:
        raise ValueError(f"not a payment field: {name}")
    return f'"{db_column}"'


def db_value(value: Any) -> Any:
    if isinstance(value, Enum):
        return str(value.value)
    return value


def json_text(value: dict[str, Any] | None) -> str | None:
    # The same compact encoding tortoise's JSONField writes.
    return None if value is None else json.dumps(value, separators=(",", ":"))


async def find_payment(conn: BaseDBAsyncClient, by: str, value: object) -> Payment | None:
    """One payment read without the query builder; the row goes through the model's own
    loader (`_init_from_db`, what tortoise's executor uses), so it is the same object."""
    rows = await conn.execute_query_dict(
        f"SELECT * FROM {table(Payment)} WHERE {column(by)} = $1", [value]
    )
    return Payment._init_from_db(**rows[0]) if rows else None


# The PostgreSQL type of each kind of payment field a move may set (arrays need one).
_FIELD_TYPES = {
    "IntField": "int",
    "BigIntField": "bigint",
    "CharField": "varchar",
    "CharEnumFieldInstance": "varchar",
    "TextField": "text",
    "DatetimeField": "timestamptz",
}


def pg_type(name: str) -> str:
    field_object = Payment._meta.fields_map.get(name)
    if field_object is None:
        raise ValueError(f"not a payment field: {name}")
    found = _FIELD_TYPES.get(type(field_object).__name__)
    if found is None:
        raise ValueError(f"no SQL type for {name} ({type(field_object).__name__})")
    return found
