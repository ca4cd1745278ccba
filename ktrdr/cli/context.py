"""Objects every command needs, built from the settings."""

from __future__ import annotations

from ktrdr.cli.api_client import ApiClient
from ktrdr.config import Settings, get_settings
from ktrdr.data.store import DataStore


def settings() -> Settings:
    return get_settings()


def data_store() -> DataStore:
    return DataStore(get_settings().data_path)


def api_client() -> ApiClient:
    current = get_settings()
    return ApiClient(current.api_url, current.api_token)
