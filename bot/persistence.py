"""PTB persistence in the database (`payments.models.StoredState`), as JSON, never pickle.

What is stored: per-user data (language choice, the draft of a payment being entered) and the
state of each persistent conversation. Chat data and bot data are not stored: lipabot keeps no
chat data, and bot_data holds live services.

Several instances (web dynos behind a router) share one database, so this class is written for
readers and writers that are not alone:

* Reads: user_data is re-read before each update (`refresh_user_data`); the conversation state
  of the update's key is re-read before the conversation looks at it
  (`bot.shared_conversation`, through `read_conversation`).
* Writes are immediate: `build_application` flushes after every update (write-through).
* A conversation row is `{"state", "at": ISO time of the last step, "v": version, "who"}`
  ("who": chat and user ids, chat type and language code of the last step, for timeouts).
  Each instance remembers the version it last read or wrote per key, and a conversation write
  goes through only if the row still has that version (compare-and-set). So a late write from
  an instance that has not seen a newer step elsewhere (its in-process timeout ending the
  conversation, say) cannot clobber the newer state; it is dropped and logged.
* user_data is written only when it differs from what this instance last read or wrote, so the
  periodic flush never re-writes an old copy over another instance's newer one.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from telegram.ext import BasePersistence, PersistenceInput
from telegram.ext._utils.types import ConversationDict, ConversationKey
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from daraja.timestamps import now_utc
from payments.models import StoredState

log = logging.getLogger(__name__)

USER_DATA = "ptb:user_data"
CONVERSATIONS = "ptb:conversation:"

#: "This instance has never read nor written this key": its writes are unconditional.
_UNSEEN: Final = object()


@dataclass(frozen=True, slots=True)
class StoredConversation:
    """One conversation's stored state, when its last step happened, and the row's version."""

    state: object
    at: datetime | None  # None for rows written before last-activity times were stored
    version: str
    #: Chat and user of the last step (ids, chat type, language code; no names or texts), so
    #: an instance that never saw the customer can still time the conversation out.
    who: dict[str, Any] | None = None


class DatabasePersistence(BasePersistence[dict[str, Any], dict[str, Any], Any]):
    """User data and conversation states in the `stored_state` table, shared by all instances."""

    def __init__(
        self, *, update_interval: float = 5.0, clock: Callable[[], datetime] = now_utc
    ) -> None:
        super().__init__(
            store_data=PersistenceInput(
                bot_data=False, chat_data=False, user_data=True, callback_data=False
            ),
            update_interval=update_interval,
        )
        #: The clock stamped on conversation steps and used to judge them stale (tests set it).
        self.clock = clock
        # Version per (conversation name, key) last read or written here; None = no row.
        self._versions: dict[tuple[str, ConversationKey], str | None] = {}
        # JSON of each user's data as last read or written here.
        self._user_synced: dict[int, str] = {}
        # Who the update being handled is from, per key, until its state is written.
        self._who: dict[tuple[str, ConversationKey], dict[str, Any]] = {}

    # ------------------------------------------------------------------ user data

    async def get_user_data(self) -> dict[int, dict[str, Any]]:
        rows = await StoredState.filter(namespace=USER_DATA).all()
        data = {int(row.key): dict(row.value or {}) for row in rows}
        for user_id, value in data.items():
            self._user_synced[user_id] = _canonical(value)
        return data

    async def update_user_data(self, user_id: int, data: dict[str, Any]) -> None:
        encoded = _canonical(data)
        if self._user_synced.get(user_id) == encoded:
            return  # unchanged here: writing would only risk overwriting a newer copy
        await _put(USER_DATA, str(user_id), data)
        self._user_synced[user_id] = encoded

    async def refresh_user_data(self, user_id: int, user_data: dict[str, Any]) -> None:
        row = await StoredState.get_or_none(namespace=USER_DATA, key=str(user_id))
        if row is not None and isinstance(row.value, dict):
            user_data.clear()
            user_data.update(row.value)
            self._user_synced[user_id] = _canonical(row.value)

    async def chosen_language(self, user_id: int) -> str | None:
        """The language `user_id` chose with /language, if any (the notifier's admin alerts)."""
        row = await StoredState.get_or_none(namespace=USER_DATA, key=str(user_id))
        value = row.value.get("lang") if row is not None and isinstance(row.value, dict) else None
        return value if isinstance(value, str) else None

    async def drop_user_data(self, user_id: int) -> None:
        await StoredState.filter(namespace=USER_DATA, key=str(user_id)).delete()
        self._user_synced.pop(user_id, None)

    # ------------------------------------------------------------------ conversations

    async def get_conversations(self, name: str) -> ConversationDict:
        rows = await StoredState.filter(namespace=CONVERSATIONS + name).all()
        states: ConversationDict = {}
        for row in rows:
            key = _decode_key(row.key)
            stored = _unwrap(row.value)
            self._versions[(name, key)] = stored.version
            states[key] = stored.state
        return states

    async def read_conversation(self, name: str, key: ConversationKey) -> StoredConversation | None:
        """The stored state of one conversation (None: not in one); remembered as seen."""
        row = await StoredState.get_or_none(namespace=CONVERSATIONS + name, key=_encode_key(key))
        stored = None if row is None else _unwrap(row.value)
        self._versions[(name, key)] = None if stored is None else stored.version
        return stored

    async def stale_conversations(
        self, name: str, timeout_seconds: float | None
    ) -> list[tuple[ConversationKey, StoredConversation]]:
        """Conversations idle past the timeout (each remembered as seen, ready to claim)."""
        if not timeout_seconds:
            return []
        stale = []
        for row in await StoredState.filter(namespace=CONVERSATIONS + name).all():
            stored = _unwrap(row.value)
            if self.is_stale(stored, timeout_seconds):
                key = _decode_key(row.key)
                self._versions[(name, key)] = stored.version
                stale.append((key, stored))
        return stale

    def remember_who(self, name: str, key: ConversationKey, who: dict[str, Any]) -> None:
        """Store `who` with the next state written for this key (see `StoredConversation`)."""
        self._who[(name, key)] = who

    def forget_who(self) -> None:
        """Drop what `remember_who` kept for updates that changed no conversation."""
        self._who.clear()

    async def update_conversation(
        self, name: str, key: ConversationKey, new_state: object | None
    ) -> None:
        expected = self._versions.get((name, key), _UNSEEN)
        if not await self._compare_and_set(name, key, expected, new_state):
            log.info(
                "conversation %s %s changed on another instance: this instance's write of %r "
                "was dropped",
                name,
                key,
                new_state,
            )

    async def claim_conversation(self, name: str, key: ConversationKey) -> bool:
        """End the conversation if the row is still the version this instance last saw.

        True when this call removed it: the caller (a timeout) owns the ending. False when it
        was gone already or another instance has moved it on since.
        """
        expected = self._versions.get((name, key), _UNSEEN)
        if expected is _UNSEEN:
            current = await self.read_conversation(name, key)
            expected = None if current is None else current.version
        if expected is None:
            return False
        return await self._compare_and_set(name, key, expected, None)

    def is_stale(self, stored: StoredConversation, timeout_seconds: float | None) -> bool:
        """Has this conversation waited longer than the idle timeout since its last step?"""
        if not timeout_seconds or stored.at is None:
            return False
        return (self.clock() - stored.at).total_seconds() >= timeout_seconds

    async def _compare_and_set(
        self, name: str, key: ConversationKey, expected: object, new_state: object | None
    ) -> bool:
        namespace, encoded = CONVERSATIONS + name, _encode_key(key)
        version = uuid.uuid4().hex
        try:
            async with in_transaction() as conn:
                row = (
                    await StoredState.filter(namespace=namespace, key=encoded)
                    .using_db(conn)
                    .select_for_update()
                    .first()
                )
                current = None if row is None else _unwrap(row.value)
                current_version = None if current is None else current.version
                if expected is not _UNSEEN and current_version != expected:
                    return False
                if new_state is None:
                    if row is not None:
                        await row.delete(using_db=conn)
                else:
                    value = {"state": new_state, "at": self.clock().isoformat(), "v": version}
                    who = self._who.get((name, key)) or (current.who if current else None)
                    if who:
                        value["who"] = who
                    if row is None:
                        await StoredState.create(
                            namespace=namespace, key=encoded, value=value, using_db=conn
                        )
                    else:
                        row.value = value
                        await row.save(using_db=conn, update_fields=["value", "updated_at"])
        except IntegrityError:
            # Another instance created the row between our read and our insert.
            return False
        finally:
            self._who.pop((name, key), None)
        self._versions[(name, key)] = None if new_state is None else version
        return True

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


def _canonical(value: object) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _encode_key(key: ConversationKey) -> str:
    return json.dumps(list(key))


def _decode_key(text: str) -> ConversationKey:
    return tuple(json.loads(text))


def _unwrap(value: object) -> StoredConversation:
    """A stored row as a `StoredConversation`; bare states are rows from before versions."""
    if isinstance(value, dict) and "state" in value and "v" in value:
        at = value.get("at")
        who = value.get("who")
        return StoredConversation(
            state=value["state"],
            at=datetime.fromisoformat(at) if isinstance(at, str) else None,
            version=str(value["v"]),
            who=who if isinstance(who, dict) else None,
        )
    return StoredConversation(state=value, at=None, version="legacy:" + _canonical(value))
