"""Telegram update handlers: the pay conversation, customer commands and admin commands."""
