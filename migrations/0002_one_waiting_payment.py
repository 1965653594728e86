"""One payment waiting for M-Pesa per customer and per phone, enforced by the database.

The service checks this before pushing, but two requests racing each other could both pass the
check; these partial unique indexes (same syntax on PostgreSQL and SQLite) make the second
`created -> pushing` update fail instead, so a customer never gets two prompts at once.
Flagged payments (left to the admins) do not count.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops

WAITING = "status IN ('pushing', 'pending', 'unknown') AND flagged_reason IS NULL"


class Migration(migrations.Migration):
    dependencies = [("models", "0001_initial")]

    initial = False

    operations = [
        ops.RunSQL(
            [
                f"CREATE UNIQUE INDEX uniq_payment_waiting_user ON payment (user_id) WHERE {WAITING}",
                f"CREATE UNIQUE INDEX uniq_payment_waiting_phone ON payment (phone) WHERE {WAITING}",
            ],
            reverse_sql=[
                "DROP INDEX uniq_payment_waiting_user",
                "DROP INDEX uniq_payment_waiting_phone",
            ],
        ),
    ]
