"""Safaricom Daraja (M-Pesa Express / STK push) as a library: no Telegram, no web framework."""
