"""Objects every command needs, built from the settings."""

from __future__ import annotations

from ktrdr.config import Settings, get_settings
from ktrdr.data.store import DataStore


def settings() -> Settings:
    return get_settings()


def data_store() -> DataStore:
    return DataStore(get_settings().data_path)
