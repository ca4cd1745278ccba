"""One settings object for every process (CLI, backend, workers).

Every variable is ``KTRDR_<FIELD>`` in upper case, e.g. ``KTRDR_DATA_DIR``. Paths
default to ``~/.ktrdr/...`` (``KTRDR_HOME`` moves them all at once) except the
strategies directory, which defaults to ``./strategies`` in the working directory.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ktrdr.core.enums import WorkerType

DEFAULT_API_PORT = 8000
DEFAULT_MCP_PORT = 8010
DEFAULT_WORKER_PORTS: dict[WorkerType, int] = {
    WorkerType.BACKTESTING: 5003,
    WorkerType.TRAINING: 5004,
}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KTRDR_", extra="ignore")

    home: Path = Field(default_factory=lambda: Path.home() / ".ktrdr")
    data_dir: Path | None = None
    models_dir: Path | None = None
    strategies_dir: Path = Path("strategies")
    log_level: str = "INFO"
    log_format: str = Field(default="console", pattern="^(console|json)$")

    # Backend. Binds to loopback unless told otherwise (compose sets 0.0.0.0).
    api_host: str = "127.0.0.1"
    api_port: int = Field(default=DEFAULT_API_PORT, ge=1, le=65535)
    # Where clients and workers reach the backend.
    api_url: str = "http://127.0.0.1:8000"
    # When set, mutating endpoints need "Authorization: Bearer <token>".
    api_token: str | None = None
    # When set, workers must present it to register and to report.
    worker_secret: str | None = None
    # SQLAlchemy URL; default: an SQLite file in the data dir.
    database_url: str | None = None
    max_upload_bytes: int = Field(default=50 * 1024 * 1024, ge=1024)

    # Worker supervision (backend side).
    health_interval_s: float = Field(default=5.0, gt=0)
    worker_failure_threshold: int = Field(default=3, ge=1)
    # An operation whose worker is gone is failed within this many seconds.
    worker_lost_timeout_s: float = Field(default=60.0, gt=0)
    operation_max_retries: int = Field(default=1, ge=0)

    # MCP server (python -m ktrdr.mcp --transport http); stdio needs neither.
    mcp_host: str = "127.0.0.1"
    mcp_port: int = Field(default=DEFAULT_MCP_PORT, ge=1, le=65535)

    # Worker process.
    worker_host: str = "127.0.0.1"
    worker_port: int | None = Field(default=None, ge=1, le=65535)
    worker_public_url: str | None = None
    worker_id: str | None = None
    worker_shutdown_grace_s: float = Field(default=20.0, ge=0)
    worker_heartbeat_s: float = Field(default=5.0, gt=0)

    # Compute. torch's intra-op threads; unset: the host's cores shared by the workers
    # (and --local runs) configured on it, so two workers on two cores do not fight.
    torch_threads: int | None = Field(default=None, ge=1, le=256)
    host_workers: int = Field(default=1, ge=1, le=256)

    @model_validator(mode="after")
    def _derive_paths(self) -> Settings:
        # Derived here, not in defaults, so that KTRDR_HOME moves every unset path.
        if self.data_dir is None:
            self.data_dir = self.home / "data"
        if self.models_dir is None:
            self.models_dir = self.home / "models"
        if self.database_url is None:
            self.database_url = f"sqlite:///{self.data_dir / 'ktrdr.db'}"
        return self

    @property
    def data_path(self) -> Path:
        assert self.data_dir is not None
        return self.data_dir

    @property
    def database(self) -> str:
        assert self.database_url is not None
        return self.database_url

    @property
    def models_path(self) -> Path:
        assert self.models_dir is not None
        return self.models_dir

    def worker_port_for(self, worker_type: WorkerType) -> int:
        """The port a worker of this type listens on: KTRDR_WORKER_PORT, else its default."""
        return self.worker_port or DEFAULT_WORKER_PORTS[WorkerType(worker_type)]

    @property
    def torch_thread_count(self) -> int:
        """KTRDR_TORCH_THREADS, else the host's cores divided by KTRDR_HOST_WORKERS."""
        if self.torch_threads is not None:
            return self.torch_threads
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        return max(1, (cores or 1) // self.host_workers)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
