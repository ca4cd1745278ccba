"""Start a worker: ``python -m ktrdr.workers backtesting|training|research``.

The one way a worker runs (``ktrdr worker start``, ``ktrdr up``, the images and compose
all run this module). The compute stack is checked before anything imports it, so a
worker started without it exits with one clear line (status 3) instead of a traceback.
"""

from __future__ import annotations

import os
import sys

from ktrdr.core.enums import WorkerType
from ktrdr.core.logging_setup import configure_logging
from ktrdr.core.server import serve
from ktrdr.core.settings import Settings, get_settings
from ktrdr.workers.ml_check import validate_ml_dependencies

USAGE = "usage: python -m ktrdr.workers backtesting|training|research"


def run_worker(worker_type: WorkerType, settings: Settings) -> None:
    """Serve a worker of ``worker_type`` on KTRDR_WORKER_HOST:KTRDR_WORKER_PORT."""
    validate_ml_dependencies(worker_type)
    # Only now, with the stack known to import:
    from ktrdr.compute.device import limit_threads
    from ktrdr.workers.jobs import job_for
    from ktrdr.workers.runtime import create_worker_app

    configure_logging(settings.log_level, settings.log_format)
    if settings.worker_niceness:
        os.nice(settings.worker_niceness)  # only ever lowers priority: no privilege needed
    limit_threads(settings.torch_thread_count)
    app = create_worker_app(worker_type, job_for(worker_type), settings)
    serve(app, settings.worker_host, settings.worker_port_for(worker_type))


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0] not in set(WorkerType):
        print(USAGE, file=sys.stderr)
        return 2
    run_worker(WorkerType(argv[0]), get_settings())
    return 0
