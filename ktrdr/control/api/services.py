"""Everything the endpoints share, built once per application from its settings."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from ktrdr.control.operations.store import OperationsStore
from ktrdr.control.orchestration.dispatcher import Dispatcher
from ktrdr.control.orchestration.lease import Lease, LeaseKeeper
from ktrdr.control.orchestration.registry import WorkerRegistry
from ktrdr.control.orchestration.supervisor import Supervisor
from ktrdr.control.orchestration.worker_client import WorkerClient
from ktrdr.core.settings import Settings
from ktrdr.research.data.store import DataStore


@dataclass
class Services:
    settings: Settings
    engine: Engine
    operations: OperationsStore
    registry: WorkerRegistry
    data: DataStore
    worker_client: WorkerClient
    dispatcher: Dispatcher
    supervisor: Supervisor
    lease: LeaseKeeper

    @classmethod
    def build(cls, settings: Settings, engine: Engine) -> Services:
        operations = OperationsStore(engine)
        registry = WorkerRegistry()
        client = WorkerClient(settings.worker_secret)
        # Of the backends sharing this database, only the lease holder dispatches and
        # supervises (a rolling restart runs two for a while).
        lease = Lease(engine, settings.leader_lease_s)
        dispatcher = Dispatcher(operations, registry, client, is_leader=lambda: lease.held)
        supervisor = Supervisor(
            operations, registry, client, settings, dispatcher.wake, is_leader=lambda: lease.held
        )
        return cls(
            settings=settings,
            engine=engine,
            operations=operations,
            registry=registry,
            data=DataStore.from_settings(settings),
            worker_client=client,
            dispatcher=dispatcher,
            supervisor=supervisor,
            lease=LeaseKeeper(lease, on_acquired=dispatcher.wake),
        )

    def start(self) -> None:
        self.lease.start()
        self.dispatcher.start()
        self.supervisor.start()

    def stop(self) -> None:
        self.supervisor.stop()
        self.dispatcher.stop()
        self.lease.stop()  # handed back at once: the next backend need not wait it out
        self.worker_client.close()
        self.engine.dispose()
