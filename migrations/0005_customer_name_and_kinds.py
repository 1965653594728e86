"""The payer's Telegram name on each payment (for the shop's announcements), and three outbox
kinds: the receipt that follows a query-settled payment, a flagged payment's message to its
payer, and the announcement of a payment to the admins."""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops

from payments.models import NotificationKind


class DescribeOnly(ops.AlterField):
    """An AlterField that changes only the migration state, never the table.

    New enum values change a CharEnumField's description, not its column (still VARCHAR(16)).
    Tortoise's SQLite AlterField rebuilds the table and loses its unique_together and indexes
    (the notification table's one-message-per-kind key vanished), so none is run.
    """

    async def database_forward(self, *args: object, **kwargs: object) -> None:
        return None

    async def database_backward(self, *args: object, **kwargs: object) -> None:
        return None


class Migration(migrations.Migration):
    dependencies = [("models", "0004_c2b")]

    initial = False

    operations = [
        DescribeOnly(
            model_name="Notification",
            name="kind",
            field=fields.CharEnumField(
                description="PAID: paid\nFAILED: failed\nCANCELLED: cancelled\nEXPIRED: expired\nLATE_PAID: late_paid\nPUSH_FAILED: push_failed\nADMIN_ALERT: admin_alert\nRECEIPT: receipt\nFLAGGED: flagged\nANNOUNCE: announce",
                enum_type=NotificationKind,
                max_length=16,
            ),
        ),
        ops.AddField(
            model_name="Payment",
            name="customer_name",
            field=fields.CharField(
                null=True,
                description="The payer's Telegram name, for the shop's announcements (not used to match anything).",
                max_length=64,
            ),
        ),
    ]
