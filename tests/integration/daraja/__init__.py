"""Integration tests: the Daraja emulator, and the Daraja client against it."""
