"""Offline tools: the whole service in one process with nothing real behind it.

`offline.fake_telegram` is a fake Telegram Bot API (tests, demo, chat, benchmarks);
`offline.session` runs the real app against it, SQLite and the Daraja emulator; `offline.demo` and
`offline.chat` are the `demo` and `chat` commands. `offline` may import every package of the
service; nothing in the service imports `offline`.
"""
