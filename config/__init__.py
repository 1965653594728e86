"""Configuration, read once from the environment (and `.env`) into one typed object."""

from config.settings import DarajaEnv, Settings, load_settings

__all__ = ["DarajaEnv", "Settings", "load_settings"]
