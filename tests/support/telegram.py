"""Fixtures: telegram (filled in by the issue that builds it)."""
