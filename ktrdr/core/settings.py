"""One settings object for every process (CLI, backend, workers).

Every variable is ``KTRDR_<FIELD>`` in upper case, e.g. ``KTRDR_DATA_DIR``. Paths
default to ``~/.ktrdr/...`` (``KTRDR_HOME`` moves them all at once) except the
strategies directory, which defaults to ``./strategies`` in the working directory.
"""

from __future__ import annotations

import ipaddress
import os
import sys
from functools import lru_cache
from pathlib import Path

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ktrdr.core.enums import WorkerType

DEFAULT_API_PORT = 8000
DEFAULT_MCP_PORT = 8010
DEFAULT_WORKER_PORTS: dict[WorkerType, int] = {
    WorkerType.BACKTESTING: 5003,
    WorkerType.TRAINING: 5004,
    WorkerType.RESEARCH: 5005,
}
# Where workers may live: loopback and the private ranges (compose networks, a homelab LAN).
DEFAULT_WORKER_NETWORKS = (
    "127.0.0.0/8,::1/128,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7,fe80::/10"
)
EXIT_BAD_SETTINGS = 2


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
    # Every other request body (JSON: job requests, worker reports with their results).
    max_request_bytes: int = Field(default=16 * 1024 * 1024, ge=1024)
    # Networks (comma-separated CIDRs) a registering worker's endpoint may resolve into.
    worker_networks: str = DEFAULT_WORKER_NETWORKS

    # Worker supervision (backend side).
    health_interval_s: float = Field(default=5.0, gt=0)
    worker_failure_threshold: int = Field(default=3, ge=1)
    # An operation whose worker is gone is failed within this many seconds.
    worker_lost_timeout_s: float = Field(default=60.0, gt=0)
    operation_max_retries: int = Field(default=1, ge=0)
    # The leader lease's term: a backend that stopped without handing it back is
    # replaced as the one that dispatches and supervises after this long.
    leader_lease_s: float = Field(default=15.0, ge=1.0, le=600.0)

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
    # Added to a worker's nice value at start: on a host shared with the backend, the
    # API answers first while workers compute. Off by default: on a host busy with other
    # work, a niced worker can answer its health checks too late and be declared lost.
    worker_niceness: int = Field(default=0, ge=0, le=19)

    # Compute. torch's intra-op threads; unset: the host's cores shared by the workers
    # (and --local runs) configured on it, so two workers on two cores do not fight.
    torch_threads: int | None = Field(default=None, ge=1, le=256)
    host_workers: int = Field(default=1, ge=1, le=256)
    # A training's checkpoint (models volume, one per operation, what a re-dispatched
    # attempt resumes from) is rewritten after this many epochs or seconds, whichever
    # comes first; 0 turns a rule off, both 0 turns checkpoints off.
    checkpoint_every_epochs: int = Field(default=5, ge=0, le=10_000)
    checkpoint_every_seconds: float = Field(default=300.0, ge=0, le=86_400)

    @field_validator("api_token", "worker_secret")
    @classmethod
    def _not_empty(cls, value: str | None) -> str | None:
        # An empty value would silently switch the check off; unset means "no check".
        if value is not None and not value.strip():
            raise ValueError("is set but empty: unset it to run without one, or give a value")
        return value

    @field_validator("worker_networks")
    @classmethod
    def _networks(cls, value: str) -> str:
        for part in value.split(","):
            ipaddress.ip_network(part.strip(), strict=False)  # ValueError names the bad one
        return value

    @property
    def worker_network_list(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        return [
            ipaddress.ip_network(p.strip(), strict=False) for p in self.worker_networks.split(",")
        ]

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
    """The process-wide settings, read once from the environment.

    A bad variable stops the process with one line per problem (exit status 2), naming
    the variable, instead of a traceback.
    """
    try:
        return Settings()
    except ValidationError as error:
        for problem in error.errors():
            variable = "KTRDR_" + "_".join(str(p) for p in problem["loc"]).upper()
            message = str(problem["msg"]).removeprefix("Value error, ")
            print(f"ktrdr: {variable} {message}", file=sys.stderr)
        raise SystemExit(EXIT_BAD_SETTINGS) from None
