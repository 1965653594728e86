"""The payments domain: states, rules, service and storage. No Telegram, no HTTP framework."""
