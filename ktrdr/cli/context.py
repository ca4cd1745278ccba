"""Objects every command needs, built from the settings."""

from __future__ import annotations

from ktrdr.client import ApiClient
from ktrdr.core.settings import Settings, get_settings
from ktrdr.research.data.store import DataStore


def settings() -> Settings:
    return get_settings()


def data_store() -> DataStore:
    return DataStore.from_settings(get_settings())


def api_client() -> ApiClient:
    current = get_settings()
    return ApiClient(current.api_url, current.api_token)
