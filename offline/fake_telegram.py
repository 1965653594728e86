"""A fake Telegram Bot API: a Starlette app that answers the methods lipabot uses.

Used by tests (through `httpx.ASGITransport`), the offline demo, the `chat` command and e2e tests
(served over a real socket with uvicorn). It records every call, keeps each chat's messages so edits
are checked like Telegram checks them, queues updates for `getUpdates`, and can be told to fail:
429 with `retry_after`, 5xx, slow answers (client timeouts), 403 for a chat that blocked the bot,
400 "chat not found". Photos and documents (multipart uploads) are kept with their bytes, so a
test can open the PNG or CSV the bot sent.

With `enforce_limits=True` (or `enforce_limits(...)` later) it keeps Telegram's flood limits as
Telegram does: a bot that sends or edits more than 30 messages a second overall, or more than
one a second in one chat (after a burst of a few), gets `429 Too Many Requests: retry after N`.
`too_many_requests` counts every 429 it answered.

Wire it to PTB with `fake.request()` (an `HTTPXRequest` whose transport is this app) and
`base_url=settings.telegram_api_url`; the host part of the URL is ignored.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.parser
import email.policy
import itertools
import json
import math
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from telegram.request import HTTPXRequest

# Parameters Telegram takes as plain strings; PTB sends them unencoded, so "500" stays text.
_STRING_PARAMS = frozenset(
    {
        "text",
        "caption",
        "callback_query_id",
        "url",
        "secret_token",
        "description",
        "short_description",
        "name",
        "emoji",
        "action",
        "parse_mode",
        "inline_message_id",
    }
)


#: Telegram's limit on a photo's or document's caption (characters).
CAPTION_LIMIT = 1024


@dataclass(frozen=True)
class Call:
    """One Bot API request the bot made."""

    method: str
    params: dict[str, Any]
    at: float


@dataclass(frozen=True)
class FakeUser:
    """A Telegram user who talks to the bot (their private chat id equals their user id)."""

    id: int
    first_name: str = "Wanjiku"
    language_code: str | None = "en"
    username: str | None = None

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.language_code:
            data["language_code"] = self.language_code
        if self.username:
            data["username"] = self.username
        return data


#: Telegram's flood limits as the enforcing mode keeps them (messages per second, burst).
OVERALL_RATE = 30.0
OVERALL_BURST = 30
CHAT_RATE = 1.0
CHAT_BURST = 3


def counts_as_message(method: str) -> bool:
    """Calls that put a message in a chat (Telegram's limits count these)."""
    name = method.lower()
    return name != "sendchataction" and name.startswith(("send", "edit", "copy", "forward"))


class _Bucket:
    def __init__(self, rate: float, burst: float, now: float) -> None:
        self.rate, self.burst, self.tokens, self.at = rate, float(burst), float(burst), now

    def take(self, now: float) -> float:
        """0 and one token taken, or the seconds until one is there (nothing taken)."""
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


class FloodLimits:
    """Telegram's flood control for one bot: overall and per chat token buckets."""

    def __init__(
        self,
        *,
        overall_rate: float = OVERALL_RATE,
        overall_burst: int = OVERALL_BURST,
        chat_rate: float = CHAT_RATE,
        chat_burst: int = CHAT_BURST,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.clock = clock
        self.overall = _Bucket(overall_rate, overall_burst, clock())
        self.chat = (chat_rate, chat_burst)
        self.chats: dict[str, _Bucket] = {}

    def refuse(self, chat_id: object) -> int | None:
        """None (the message may go), or Telegram's retry_after in whole seconds."""
        now = self.clock()
        key = str(chat_id)
        bucket = self.chats.get(key)
        if bucket is None:
            bucket = self.chats[key] = _Bucket(*self.chat, now)
        wait = bucket.take(now)
        if wait > 0:
            return max(1, math.ceil(wait))
        wait = self.overall.take(now)
        if wait > 0:
            bucket.tokens += 1  # not sent: the chat keeps its token
            return max(1, math.ceil(wait))
        return None


@dataclass
class _Failure:
    status: int
    description: str
    method: str | None
    chat_id: int | None
    times: int | None  # None = until cleared
    retry_after: int | None = None
    delay: float = 0.0


@dataclass(frozen=True)
class UploadedFile:
    """A file the bot uploaded (multipart/form-data part)."""

    filename: str
    content_type: str
    data: bytes


@dataclass
class StoredMessage:
    message_id: int
    chat_id: int
    text: str  # the caption, for a photo or a document
    reply_markup: dict[str, Any] | None = None
    edits: int = 0
    history: list[str] = field(default_factory=list)
    kind: str = "text"  # "text" | "photo" | "document"
    file: UploadedFile | None = None


class FakeTelegram:
    """The fake Bot API server state plus its ASGI app (`.app`)."""

    def __init__(
        self,
        token: str,
        *,
        bot_id: int | None = None,
        username: str = "lipa_test_bot",
        enforce_limits: bool = False,
    ) -> None:
        self.token = token
        #: Telegram's flood limits, when enforced (`enforce_limits`).
        self.limits: FloodLimits | None = FloodLimits() if enforce_limits else None
        #: Every 429 answered: flood limits and `fail_retry_after` alike.
        self.too_many_requests = 0
        self.bot_id = bot_id if bot_id is not None else _bot_id_from(token)
        self.username = username
        self.calls: list[Call] = []
        self.messages: dict[int, dict[int, StoredMessage]] = defaultdict(dict)
        self.commands: list[dict[str, Any]] = []
        #: Every command list set, by (scope as JSON, language code or "").
        self.scoped_commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.webhook_url = ""
        self._message_ids: dict[int, itertools.count[int]] = defaultdict(lambda: itertools.count(1))
        self._update_ids = itertools.count(1)
        self._callback_ids = itertools.count(1)
        self._queued: list[dict[str, Any]] = []
        self._new_update = asyncio.Event()
        self._failures: list[_Failure] = []
        self._unhang = asyncio.Event()
        self._changed = asyncio.Event()
        self.app = Starlette(
            routes=[Route("/bot{token}/{method}", self._endpoint, methods=["GET", "POST"])]
        )

    # ---------------------------------------------------------------- wiring

    def transport(self) -> httpx.ASGITransport:
        return httpx.ASGITransport(app=self.app)

    def request(self, *, read_timeout: float = 5.0) -> HTTPXRequest:
        """A PTB request object that talks to this fake in-process."""
        return HTTPXRequest(read_timeout=read_timeout, httpx_kwargs={"transport": self.transport()})

    @contextlib.asynccontextmanager
    async def serve(self, host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[str]:
        """Serve over a real socket; yields the `TELEGRAM_API_URL` to use (`http://host:port/bot`)."""
        import uvicorn

        from webhooks.serving import serve_in_loop

        config = uvicorn.Config(self.app, host=host, port=port, log_level="warning", lifespan="off")
        async with serve_in_loop(config) as bound:
            yield f"http://{host}:{bound}/bot"

    # ---------------------------------------------------------------- failures

    def enforce_limits(self, **limits: Any) -> FloodLimits:
        """Answer 429 beyond Telegram's flood limits from now on (`FloodLimits` arguments)."""
        self.limits = FloodLimits(**limits)
        return self.limits

    def fail_retry_after(
        self, seconds: int = 1, *, method: str | None = None, times: int | None = 1
    ) -> None:
        """Answer 429 "Too Many Requests: retry after N" (Telegram's flood control)."""
        self._failures.append(
            _Failure(429, f"Too Many Requests: retry after {seconds}", method, None, times, seconds)
        )

    def fail_server_error(
        self, status: int = 502, *, method: str | None = None, times: int | None = 1
    ) -> None:
        """Answer 5xx (PTB raises NetworkError)."""
        self._failures.append(_Failure(status, "Bad Gateway", method, None, times))

    def fail_slow(self, delay: float, *, method: str | None = None, times: int | None = 1) -> None:
        """Answer only after `delay` seconds, so a client with a shorter timeout gives up."""
        self._failures.append(_Failure(200, "", method, None, times, delay=delay))

    def fail_bad_request(
        self, description: str, *, method: str | None = None, times: int | None = 1
    ) -> None:
        """Answer 400 with `description` (e.g. "Bad Request: message to edit not found")."""
        self._failures.append(_Failure(400, description, method, None, times))

    def fail_timeout(self, *, method: str | None = None, times: int | None = 1) -> None:
        """In-process only: the client's read times out (PTB raises TimedOut).

        `ASGITransport` ignores client timeouts, so the app raises httpx's own ReadTimeout, which
        the transport hands to the client. Over a real socket use `fail_slow` instead.
        """
        self._failures.append(_Failure(0, "", method, None, times))

    def block_chat(self, chat_id: int) -> None:
        """The user blocked the bot: every call to this chat gets 403 from now on."""
        self._failures.append(
            _Failure(403, "Forbidden: bot was blocked by the user", None, chat_id, None)
        )

    def unknown_chat(self, chat_id: int) -> None:
        self._failures.append(_Failure(400, "Bad Request: chat not found", None, chat_id, None))

    def fail_hang(self, *, method: str | None = None, times: int | None = None) -> None:
        """Never answer (a request in flight when its client dies), until `clear_failures()`;
        then the held requests get 502 and have done nothing."""
        self._failures.append(_Failure(-1, "", method, None, times))

    def clear_failures(self) -> None:
        self._failures.clear()
        self._unhang.set()
        self._unhang = asyncio.Event()

    # ---------------------------------------------------------------- assertions

    def calls_to(self, method: str) -> list[dict[str, Any]]:
        return [call.params for call in self.calls if call.method == method]

    def chat_messages(self, chat_id: int) -> list[StoredMessage]:
        return list(self.messages[chat_id].values())

    def texts(self, chat_id: int) -> list[str]:
        """Current text of every message the bot has in the chat, oldest first."""
        return [m.text for m in self.chat_messages(chat_id)]

    def last(self, chat_id: int) -> StoredMessage:
        return self.chat_messages(chat_id)[-1]

    async def wait_until(self, predicate: Callable[[], bool]) -> None:
        """Wait until `predicate()` holds, re-checking after every call the bot makes.

        Wrap it in `asyncio.timeout(...)`: it waits as long as it takes.
        """
        while not predicate():
            self._changed.clear()
            await self._changed.wait()

    def answers(self) -> list[dict[str, Any]]:
        return self.calls_to("answerCallbackQuery")

    # ---------------------------------------------------------------- updates

    def enqueue(self, update: dict[str, Any]) -> None:
        """Queue an update for `getUpdates` (polling mode)."""
        self._queued.append(update)
        self._new_update.set()

    def message(
        self, user: FakeUser, *, group_id: int | None = None, **content: Any
    ) -> dict[str, Any]:
        """An update carrying a message from `user`: in their private chat, or in a group."""
        if group_id is None:
            chat = {"id": user.id, "type": "private", "first_name": user.first_name}
        else:
            chat = {"id": group_id, "type": "group", "title": "Duka staff"}
        body = {
            "message_id": next(self._message_ids[chat["id"]]),
            "date": int(time.time()),
            "chat": chat,
            "from": user.as_dict(),
            **content,
        }
        return {"update_id": next(self._update_ids), "message": body}

    def text(self, user: FakeUser, text: str, *, group_id: int | None = None) -> dict[str, Any]:
        entities = []
        if text.startswith("/"):
            command = text.split()[0]
            entities = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        update = self.message(user, group_id=group_id, text=text)
        if entities:
            update["message"]["entities"] = entities
        return update

    def command(self, user: FakeUser, command: str, *args: str) -> dict[str, Any]:
        return self.text(user, " ".join([f"/{command.lstrip('/')}", *args]))

    def contact(
        self, user: FakeUser, phone: str, *, contact_user_id: int | None = None
    ) -> dict[str, Any]:
        """A shared contact; `contact_user_id` defaults to the sender (their own number)."""
        owner = user.id if contact_user_id is None else contact_user_id
        return self.message(
            user,
            contact={"phone_number": phone, "first_name": user.first_name, "user_id": owner},
        )

    def sticker(self, user: FakeUser) -> dict[str, Any]:
        sticker = {
            "file_id": "CAACAgIAAxkBAAE",
            "file_unique_id": "AgADBAAD",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
        }
        return self.message(user, sticker=sticker)

    def photo(self, user: FakeUser) -> dict[str, Any]:
        size = {"file_id": "AgACAgQAAx0", "file_unique_id": "AQADc6", "width": 90, "height": 90}
        return self.message(user, photo=[size])

    def voice(self, user: FakeUser) -> dict[str, Any]:
        return self.message(
            user, voice={"file_id": "AwACAgQAAx0", "file_unique_id": "AgADvQ", "duration": 2}
        )

    def press(
        self,
        user: FakeUser,
        data: str,
        *,
        message_id: int | None = None,
        chat_id: int | None = None,
    ) -> dict[str, Any]:
        """A tap on an inline button under a message the bot sent (its last one by default)."""
        chat_id = user.id if chat_id is None else chat_id
        stored = (
            self.messages[chat_id][message_id] if message_id is not None else self.last(chat_id)
        )
        message = {
            "message_id": stored.message_id,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", "first_name": user.first_name},
            "from": self._me(),
            "text": stored.text,
        }
        if stored.reply_markup and "inline_keyboard" in stored.reply_markup:
            message["reply_markup"] = stored.reply_markup
        query = {
            "id": str(next(self._callback_ids)),
            "from": user.as_dict(),
            "chat_instance": f"ci-{chat_id}",
            "message": message,
            "data": data,
        }
        return {"update_id": next(self._update_ids), "callback_query": query}

    def buttons(self, chat_id: int, message_id: int | None = None) -> list[dict[str, Any]]:
        """The inline buttons under a message, flattened."""
        stored = self.messages[chat_id][message_id] if message_id else self.last(chat_id)
        rows = (stored.reply_markup or {}).get("inline_keyboard", [])
        return [button for row in rows for button in row]

    # ---------------------------------------------------------------- server

    async def _endpoint(self, request: Request) -> JSONResponse:
        method = request.path_params["method"]
        params = await _params(request)
        self.calls.append(Call(method, params, time.monotonic()))
        if request.path_params["token"] != self.token:
            return _error(401, "Unauthorized")
        failure = self._failure_for(method, params)
        if failure is not None:
            if failure.status == -1:
                await self._unhang.wait()
                return _error(502, "Bad Gateway")
            if failure.delay:
                await asyncio.sleep(failure.delay)
            elif failure.status == 0:
                raise httpx.ReadTimeout("fake telegram: no answer")
            else:
                extra = {"retry_after": failure.retry_after} if failure.retry_after else None
                if failure.status == 429:
                    self.too_many_requests += 1
                return _error(failure.status, failure.description, extra)
        if self.limits is not None and counts_as_message(method):
            retry_after = self.limits.refuse(params.get("chat_id"))
            if retry_after is not None:
                self.too_many_requests += 1
                return _error(
                    429,
                    f"Too Many Requests: retry after {retry_after}",
                    {"retry_after": retry_after},
                )
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return _error(404, "Not Found")
        try:
            result = await handler(params)
        finally:
            self._changed.set()
        if isinstance(result, JSONResponse):
            return result
        return JSONResponse({"ok": True, "result": result})

    def _failure_for(self, method: str, params: dict[str, Any]) -> _Failure | None:
        chat_id = params.get("chat_id")
        for failure in self._failures:
            if failure.method is not None and failure.method != method:
                continue
            if failure.chat_id is not None and failure.chat_id != chat_id:
                continue
            if failure.times is not None:
                failure.times -= 1
                if failure.times <= 0:
                    self._failures.remove(failure)
            return failure
        return None

    def _me(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "Lipa",
            "username": self.username,
            "can_join_groups": False,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def _message_json(self, stored: StoredMessage) -> dict[str, Any]:
        body: dict[str, Any] = {
            "message_id": stored.message_id,
            "date": int(time.time()),
            "chat": {"id": stored.chat_id, "type": "private"},
            "from": self._me(),
        }
        body.update(_content_json(stored))
        if stored.reply_markup and "inline_keyboard" in stored.reply_markup:
            body["reply_markup"] = stored.reply_markup
        return body

    async def _m_getMe(self, params: dict[str, Any]) -> Any:
        return self._me()

    async def _m_sendMessage(self, params: dict[str, Any]) -> Any:
        chat_id = int(params["chat_id"])
        text = str(params.get("text", ""))
        if not text.strip():
            return _error(400, "Bad Request: message text is empty")
        stored = StoredMessage(
            next(self._message_ids[chat_id]), chat_id, text, params.get("reply_markup")
        )
        self.messages[chat_id][stored.message_id] = stored
        return self._message_json(stored)

    async def _m_sendPhoto(self, params: dict[str, Any]) -> Any:
        return self._store_upload("photo", params)

    async def _m_sendDocument(self, params: dict[str, Any]) -> Any:
        return self._store_upload("document", params)

    def _store_upload(self, kind: str, params: dict[str, Any]) -> Any:
        chat_id = int(params["chat_id"])
        upload = params.get(kind)
        if not isinstance(upload, UploadedFile) or not upload.data:
            # A file_id or URL (never used by lipabot) or an empty file.
            return _error(400, f"Bad Request: there is no {kind} in the request")
        if len(str(params.get("caption", ""))) > CAPTION_LIMIT:
            return _error(400, "Bad Request: message caption is too long")
        stored = StoredMessage(
            next(self._message_ids[chat_id]),
            chat_id,
            str(params.get("caption", "")),
            params.get("reply_markup"),
            kind=kind,
            file=upload,
        )
        self.messages[chat_id][stored.message_id] = stored
        return self._message_json(stored)

    def _find(self, params: dict[str, Any]) -> StoredMessage | JSONResponse:
        chat_id = int(params.get("chat_id", 0))
        stored = self.messages[chat_id].get(int(params.get("message_id", 0)))
        if stored is None:
            return _error(400, "Bad Request: message to edit not found")
        return stored

    async def _m_editMessageText(self, params: dict[str, Any]) -> Any:
        stored = self._find(params)
        if isinstance(stored, JSONResponse):
            return stored
        text = str(params.get("text", ""))
        markup = params.get("reply_markup")
        if text == stored.text and markup == stored.reply_markup:
            return _error(
                400,
                "Bad Request: message is not modified: specified new message content and reply "
                "markup are exactly the same as a current content and reply markup of the message",
            )
        stored.history.append(stored.text)
        stored.text, stored.reply_markup = text, markup
        stored.edits += 1
        return self._message_json(stored)

    async def _m_editMessageReplyMarkup(self, params: dict[str, Any]) -> Any:
        stored = self._find(params)
        if isinstance(stored, JSONResponse):
            return stored
        stored.reply_markup = params.get("reply_markup")
        stored.edits += 1
        return self._message_json(stored)

    async def _m_deleteMessage(self, params: dict[str, Any]) -> Any:
        stored = self._find(params)
        if isinstance(stored, JSONResponse):
            return _error(400, "Bad Request: message to delete not found")
        del self.messages[stored.chat_id][stored.message_id]
        return True

    async def _m_answerCallbackQuery(self, params: dict[str, Any]) -> Any:
        return True

    async def _m_sendChatAction(self, params: dict[str, Any]) -> Any:
        return True

    async def _m_setMyCommands(self, params: dict[str, Any]) -> Any:
        commands = list(params.get("commands") or [])
        scope = params.get("scope") or {"type": "default"}
        language = str(params.get("language_code") or "")
        self.scoped_commands[(json.dumps(scope, sort_keys=True), language)] = commands
        if scope == {"type": "default"}:
            self.commands = commands
        return True

    def commands_for(self, scope: dict[str, Any], language: str = "") -> list[dict[str, Any]]:
        """The command list last set for `scope` (e.g. `{"type": "chat", "chat_id": 1000}`)."""
        return self.scoped_commands.get((json.dumps(scope, sort_keys=True), language), [])

    async def _m_getMyCommands(self, params: dict[str, Any]) -> Any:
        return self.commands

    async def _m_deleteWebhook(self, params: dict[str, Any]) -> Any:
        self.webhook_url = ""
        if params.get("drop_pending_updates"):
            self._queued.clear()
        return True

    async def _m_setWebhook(self, params: dict[str, Any]) -> Any:
        self.webhook_url = str(params.get("url", ""))
        return True

    async def _m_getWebhookInfo(self, params: dict[str, Any]) -> Any:
        return {"url": self.webhook_url, "has_custom_certificate": False, "pending_update_count": 0}

    async def _m_close(self, params: dict[str, Any]) -> Any:
        return True

    async def _m_getUpdates(self, params: dict[str, Any]) -> Any:
        offset = int(params.get("offset") or 0)
        # Telegram forgets updates below the offset: the client has confirmed them.
        self._queued = [u for u in self._queued if u["update_id"] >= offset]
        if not self._queued:
            self._new_update.clear()
            # Long polling, capped so a test's shutdown never waits for the client's full timeout.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._new_update.wait(), timeout=min(float(params.get("timeout") or 0), 1.0)
                )
        limit = int(params.get("limit") or 100)
        return self._queued[:limit]


async def _params(request: Request) -> dict[str, Any]:
    raw: dict[str, Any] = dict(request.query_params)
    content_type = request.headers.get("content-type", "")
    if "json" in content_type:
        body = await request.body()
        if body:
            raw.update(json.loads(body))
            return raw
    elif "x-www-form-urlencoded" in content_type:
        # Parsed by hand: Starlette's form parser needs python-multipart.
        raw.update(parse_qsl((await request.body()).decode(), keep_blank_values=True))
    elif "multipart/form-data" in content_type:
        raw.update(_multipart(content_type, await request.body()))
    return {key: _decode(key, value) for key, value in raw.items()}


def _multipart(content_type: str, body: bytes) -> dict[str, Any]:
    """Fields of a multipart/form-data body (PTB's uploads), with the stdlib's MIME parser.

    File parts become `UploadedFile`s; the rest are strings like url-encoded fields.
    """
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    fields: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        data = part.get_payload(decode=True) or b""
        filename = part.get_filename()
        if filename is None:
            fields[name] = data.decode()
        else:
            fields[name] = UploadedFile(filename, part.get_content_type(), data)
    return fields


def _content_json(stored: StoredMessage) -> dict[str, Any]:
    """The message's content as Telegram returns it: text, or a photo/document and caption."""
    if stored.file is None:
        return {"text": stored.text}
    unique = f"{stored.chat_id}-{stored.message_id}"
    ids = {"file_id": f"fake-{stored.kind}-{unique}", "file_unique_id": unique}
    body: dict[str, Any] = {"caption": stored.text} if stored.text else {}
    if stored.kind == "photo":
        body["photo"] = [{**ids, "width": 1, "height": 1, "file_size": len(stored.file.data)}]
    else:
        body["document"] = {
            **ids,
            "file_name": stored.file.filename,
            "mime_type": stored.file.content_type,
            "file_size": len(stored.file.data),
        }
    return body


def _decode(key: str, value: Any) -> Any:
    if key in _STRING_PARAMS or not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _bot_id_from(token: str) -> int:
    head = token.split(":", 1)[0]
    return int(head) if head.isdigit() else 1


def _error(status: int, description: str, parameters: dict[str, Any] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return JSONResponse(body, status_code=status)
