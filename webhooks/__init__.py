"""lipabot's HTTP face: the Starlette app that hosts the Daraja callback, the Telegram webhook,
health and metrics, and (in emulator mode) the Daraja emulator itself."""
