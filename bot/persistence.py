"""PTB persistence in the database (`payments.models.StoredState`), as JSON, never pickle.

What is stored: per-user data (language choice, the draft of a payment being entered) and the
state of each persistent conversation. Chat data and bot data are not stored: lipabot keeps no
chat data, and bot_data holds live services.

Timing: PTB only writes persistence every `update_interval` seconds, so a restart could lose the
last step of a conversation. `build_application` therefore adds a last-group handler that calls
`Application.update_persistence()` after every update, which makes writes effectively immediate
(write-through per update); the interval stays as a backstop for state changed outside updates
(conversation timeouts). Reads: user_data is re-read from the database before each update
(`refresh_user_data`), so another instance's writes are seen; conversation states are loaded when
the application starts (PTB reads them once), which is why the Confirm button also works outside
the conversation.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from telegram.ext import BasePersistence, PersistenceInput
from telegram.ext._utils.types import ConversationDict, ConversationKey

from payments.models import StoredState

log = logging.getLogger(__name__)

USER_DATA = "ptb:user_data"
CONVERSATIONS = "ptb:conversation:"


class DatabasePersistence(BasePersistence[dict[str, Any], dict[str, Any], Any]):
    """User data and conversation states in the `stored_state` table."""

    def __init__(self, *, update_interval: float = 5.0) -> None:
        super().__init__(
            store_data=PersistenceInput(
                bot_data=False, chat_data=False, user_data=True, callback_data=False
            ),
            update_interval=update_interval,
        )

    # ------------------------------------------------------------------ user data

    async def get_user_data(self) -> dict[int, dict[str, Any]]:
        rows = await StoredState.filter(namespace=USER_DATA).all()
        return {int(row.key): dict(row.value or {}) for row in rows}

    async def update_user_data(self, user_id: int, data: dict[str, Any]) -> None:
        await _put(USER_DATA, str(user_id), data)

    async def refresh_user_data(self, user_id: int, user_data: dict[str, Any]) -> None:
        row = await StoredState.get_or_none(namespace=USER_DATA, key=str(user_id))
        if row is not None and isinstance(row.value, dict):
            user_data.clear()
            user_data.update(row.value)

    async def drop_user_data(self, user_id: int) -> None:
        await StoredState.filter(namespace=USER_DATA, key=str(user_id)).delete()

    # ------------------------------------------------------------------ conversations

    async def get_conversations(self, name: str) -> ConversationDict:
        rows = await StoredState.filter(namespace=CONVERSATIONS + name).all()
        return {tuple(json.loads(row.key)): row.value for row in rows}

    async def update_conversation(
        self, name: str, key: ConversationKey, new_state: object | None
    ) -> None:
        encoded = json.dumps(list(key))
        if new_state is None:
            await StoredState.filter(namespace=CONVERSATIONS + name, key=encoded).delete()
        else:
            await _put(CONVERSATIONS + name, encoded, new_state)

    # ------------------------------------------------------------------ not stored

    async def get_chat_data(self) -> dict[int, Any]:
        return {}

    async def get_bot_data(self) -> Any:
        return None

    async def get_callback_data(self) -> None:
        return None

    async def update_chat_data(self, chat_id: int, data: Any) -> None:
        return None

    async def update_bot_data(self, data: Any) -> None:
        return None

    async def update_callback_data(self, data: Any) -> None:
        return None

    async def drop_chat_data(self, chat_id: int) -> None:
        return None

    async def refresh_chat_data(self, chat_id: int, chat_data: Any) -> None:
        return None

    async def refresh_bot_data(self, bot_data: Any) -> None:
        return None

    async def flush(self) -> None:
        # Every write already went to the database.
        return None


async def _put(namespace: str, key: str, value: object) -> None:
    await StoredState.update_or_create(defaults={"value": value}, namespace=namespace, key=key)
