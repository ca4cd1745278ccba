"""Runtime configuration, read from ``KTRDR_*`` environment variables."""

from ktrdr.config.settings import Settings, get_settings

__all__ = ["Settings", "get_settings"]
