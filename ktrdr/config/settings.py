"""One settings object for every process (CLI, backend, workers).

Every variable is ``KTRDR_<FIELD>`` in upper case, e.g. ``KTRDR_DATA_DIR``. Paths
default to ``~/.ktrdr/...`` (``KTRDR_HOME`` moves them all at once) except the
strategies directory, which defaults to ``./strategies`` in the working directory.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KTRDR_", extra="ignore")

    home: Path = Field(default_factory=lambda: Path.home() / ".ktrdr")
    data_dir: Path | None = None
    models_dir: Path | None = None
    strategies_dir: Path = Path("strategies")
    log_level: str = "INFO"
    log_format: str = Field(default="console", pattern="^(console|json)$")

    @model_validator(mode="after")
    def _derive_paths(self) -> Settings:
        # Derived here, not in defaults, so that KTRDR_HOME moves every unset path.
        if self.data_dir is None:
            self.data_dir = self.home / "data"
        if self.models_dir is None:
            self.models_dir = self.home / "models"
        return self

    @property
    def data_path(self) -> Path:
        assert self.data_dir is not None
        return self.data_dir

    @property
    def models_path(self) -> Path:
        assert self.models_dir is not None
        return self.models_dir


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
