"""`python -m bot chat` can try the main mobile path offline (issue 13): share a contact, send a
sticker, photo or voice note, and wait for the outcome before typing on."""

from __future__ import annotations

import io

from bot.texts import t
from offline.chat import run_chat


async def _chat(script: str) -> str:
    out = io.StringIO()
    assert await run_chat(io.StringIO(script), out, settle_seconds=5.0) == 0
    return out.getvalue()


async def test_contact_wait_and_media_in_the_offline_chat() -> None:
    out = await _chat("/pay\n250\ncontact\n#1\nwait 10\nsticker\nphoto\nvoice\n\\sticker\n")
    lines = out.splitlines()
    assert "you: (shares own contact +254712345678)" in lines
    confirmation = t("en", "preparing", phone="0712 345 678")
    assert f"bot: {confirmation}" in lines
    paid = next(i for i, line in enumerate(lines) if line.startswith("bot (edited): Paid ✓"))
    sticker = lines.index("you: (sticker)")
    assert paid < sticker  # `wait` held the input until the outcome arrived
    pointer = t("en", "pointer", merchant="Duka la Mama").splitlines()[0]
    for kind in ("photo", "voice"):
        assert f"you: ({kind})" in lines
    assert out.count(f"bot: {pointer}") == 4  # sticker, photo, voice, and the word "sticker"
    assert "you: sticker" in lines  # the backslash sent the word as text
    assert out.rstrip().endswith("bye")


async def test_sharing_an_airtel_contact_is_refused_offline_too() -> None:
    out = await _chat("/pay 100\ncontact +254 733 123 456\nwait 0.5\n")
    refusal = t("en", "phone_not_safaricom", network="Airtel")
    assert f"bot: {refusal}" in out.splitlines()
    assert "(chat: nothing new from the bot in 0.5 s)" in out
