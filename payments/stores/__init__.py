"""Where payments are written: one interface, two stores, chosen once when the service is built.

The service decides; a store writes. `OrmStore` (any database tortoise speaks; SQLite in
development) writes each move as an ORM transaction. `PostgresStore` writes the same moves as
single statements (update, event and outbox row in one data-modifying CTE; concurrent moves of
one shape share a statement) and falls back to its ORM parent for the rare moves that alert
admins. `select_store()` picks by the dialect of the database tortoise is connected to.

Only stores write `payment`, `payment_event` and `notification` rows for a payment's moves
(the outbox marks its own rows sent; `payments.outbox`).
"""

from __future__ import annotations

from payments.stores.base import Store
from payments.stores.orm import OrmStore
from payments.stores.postgres import PostgresStore
from payments.stores.sql import connection, is_postgres

__all__ = ["OrmStore", "PostgresStore", "Store", "select_store"]


def select_store() -> Store:
    """The store for the database tortoise is connected to (call after `payments.db.init_db`)."""
    return PostgresStore() if is_postgres(connection()) else OrmStore()
