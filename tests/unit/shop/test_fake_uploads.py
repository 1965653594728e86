"""The fake Bot API takes photo and document uploads the way Telegram does."""

from __future__ import annotations

import pytest
from telegram import Bot, InputFile
from telegram.error import BadRequest

from offline.fake_telegram import CAPTION_LIMIT, FakeTelegram
from tests.support.settings import TEST_BOT_TOKEN


def _bot(fake: FakeTelegram) -> Bot:
    return Bot(TEST_BOT_TOKEN, base_url="https://telegram.test/bot", request=fake.request())


async def test_uploads_keep_their_bytes_and_caption(fake_telegram: FakeTelegram) -> None:
    async with _bot(fake_telegram) as bot:
        photo = await bot.send_photo(
            42, b"\x89PNG fake bytes", caption="Pay KES 500", filename="a.png"
        )
        document = await bot.send_document(
            42, InputFile(b"a,b\r\n1,2\r\n", filename="x.csv"), caption="1 row"
        )
    assert photo.caption == "Pay KES 500" and photo.photo[0].file_size == 15
    assert document.document is not None and document.document.file_name == "x.csv"
    first, second = fake_telegram.chat_messages(42)
    assert (first.kind, first.text, first.file and first.file.data) == (
        "photo",
        "Pay KES 500",
        b"\x89PNG fake bytes",
    )
    assert second.kind == "document" and second.file is not None
    assert (second.file.filename, second.file.data) == ("x.csv", b"a,b\r\n1,2\r\n")


async def test_a_caption_over_the_limit_is_refused(fake_telegram: FakeTelegram) -> None:
    async with _bot(fake_telegram) as bot:
        with pytest.raises(BadRequest, match="caption is too long"):
            await bot.send_photo(42, b"png", caption="x" * (CAPTION_LIMIT + 1))
    assert fake_telegram.chat_messages(42) == []
