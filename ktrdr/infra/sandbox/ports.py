"""The port block of each sandbox slot.

A slot is a number N from 1 to 9. Every port a slot publishes on the host is derived
from N alone, so two slots never share a published port and none collides with the
local defaults (API 8000, MCP 8010, workers 5003 / 5004, PostgreSQL 5432, Prometheus 9090):

    service               host port          slot 1   slot 2   slot 3   slot 9
    backend API           8100 + N           8101     8102     8103     8109
    MCP server (HTTP)     8200 + N           8201     8202     8203     8209
    PostgreSQL            5500 + N           5501     5502     5503     5509
    Prometheus            9100 + N           9101     9102     9103     9109
    backtest workers      5000 + 10N + 1..4  5011-14  5021-24  5031-34  5091-94
    training workers      5000 + 10N + 5..8  5015-18  5025-28  5035-38  5095-98

Workers get a block of ten per slot (5010-5019 for slot 1, ...): backtest workers from
``+1``, training workers from ``+5``. A sandbox runs one of each today (``+1``, ``+5``);
the rest of the block is reserved for more. Inside the compose network the services keep
their usual ports (backend 8000, MCP 8010, backtest worker 5003, training worker 5004,
PostgreSQL 5432, Prometheus 9090); only the host side moves.
"""

from __future__ import annotations

from dataclasses import dataclass

MIN_SLOT = 1
MAX_SLOT = 9
SLOTS = range(MIN_SLOT, MAX_SLOT + 1)

# Ports of the local stack and of the stock images: no slot may publish one of them.
LOCAL_DEFAULT_PORTS = frozenset({8000, 8010, 8011, 5003, 5004, 5432, 9090})

# Ports inside the compose network (what the processes listen on).
CONTAINER_PORTS = {
    "api": 8000,
    "mcp": 8010,
    "db": 5432,
    "prometheus": 9090,
    "backtest_worker": 5003,
    "training_worker": 5004,
}

API_BASE = 8100
MCP_BASE = 8200
DB_BASE = 5500
PROMETHEUS_BASE = 9100
WORKER_BASE = 5000
WORKER_BLOCK = 10
BACKTEST_OFFSET = 1  # backtest workers: +1 .. +4 of the block
TRAINING_OFFSET = 5  # training workers: +5 .. +8 of the block
WORKERS_PER_KIND = 4  # room in the block; a sandbox runs one of each


@dataclass(frozen=True)
class SlotPorts:
    """Host ports of one slot (see the module docstring for the scheme)."""

    slot: int
    api: int
    mcp: int
    db: int
    prometheus: int
    backtest_workers: tuple[int, ...]
    training_workers: tuple[int, ...]

    @property
    def backtest_worker(self) -> int:
        """The port of the sandbox's (first) backtest worker."""
        return self.backtest_workers[0]

    @property
    def training_worker(self) -> int:
        """The port of the sandbox's (first) training worker."""
        return self.training_workers[0]

    def published(self) -> dict[str, int]:
        """Every host port the sandbox publishes, by name."""
        return {
            "api": self.api,
            "mcp": self.mcp,
            "db": self.db,
            "prometheus": self.prometheus,
            "backtest_worker": self.backtest_worker,
            "training_worker": self.training_worker,
        }

    def reserved(self) -> set[int]:
        """Every host port the slot owns, used now or kept for more workers."""
        return {
            self.api,
            self.mcp,
            self.db,
            self.prometheus,
            *self.backtest_workers,
            *self.training_workers,
        }


def check_slot(slot: int) -> int:
    if slot not in SLOTS:
        raise ValueError(f"slot must be {MIN_SLOT}..{MAX_SLOT} (got {slot})")
    return slot


def ports(slot: int) -> SlotPorts:
    """The host ports of ``slot`` (1..9).

    API 8100+N, MCP 8200+N, PostgreSQL 5500+N, Prometheus 9100+N; workers in the block
    5000+10N .. 5000+10N+9: backtest workers 5000+10N+1 (..+4), training workers
    5000+10N+5 (..+8). E.g. slot 1: API 8101, MCP 8201, DB 5501, Prometheus 9101,
    backtest worker 5011, training worker 5015.
    """
    check_slot(slot)
    block = WORKER_BASE + WORKER_BLOCK * slot
    return SlotPorts(
        slot=slot,
        api=API_BASE + slot,
        mcp=MCP_BASE + slot,
        db=DB_BASE + slot,
        prometheus=PROMETHEUS_BASE + slot,
        backtest_workers=tuple(block + BACKTEST_OFFSET + i for i in range(WORKERS_PER_KIND)),
        training_workers=tuple(block + TRAINING_OFFSET + i for i in range(WORKERS_PER_KIND)),
    )
