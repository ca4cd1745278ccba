"""Everything the endpoints share, built once per application."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from ktrdr.config import Settings
from ktrdr.data.store import DataStore
from ktrdr.operations.store import OperationsStore
from ktrdr.orchestration.dispatcher import Dispatcher
from ktrdr.orchestration.registry import WorkerRegistry
from ktrdr.orchestration.supervisor import Supervisor
from ktrdr.orchestration.worker_client import WorkerClient


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

    @classmethod
    def build(cls, settings: Settings, engine: Engine) -> Services:
        operations = OperationsStore(engine)
        registry = WorkerRegistry()
        client = WorkerClient(settings.worker_secret)
        dispatcher = Dispatcher(operations, registry, client)
        supervisor = Supervisor(operations, registry, client, settings, dispatcher.wake)
        return cls(
            settings=settings,
            engine=engine,
            operations=operations,
            registry=registry,
            data=DataStore(settings.data_path),
            worker_client=client,
            dispatcher=dispatcher,
            supervisor=supervisor,
        )

    def start(self) -> None:
        self.dispatcher.start()
        self.supervisor.start()

    def stop(self) -> None:
        self.supervisor.stop()
        self.dispatcher.stop()
        self.worker_client.close()
        self.engine.dispose()
