"""The training worker's ASGI app.

Run it with ``python -m ktrdr.training.training_worker`` (host and port from
KTRDR_WORKER_HOST and KTRDR_WORKER_PORT, default 5004) or with
``uvicorn ktrdr.training.training_worker:app --port N`` (then set KTRDR_WORKER_PORT=N too:
the port is part of the URL the worker registers). The compute stack is checked before
anything imports it, so a worker started without it exits with one clear line (status 3)
instead of a traceback.
"""

from ktrdr.workers.ml_check import validate_ml_dependencies

validate_ml_dependencies("training")

from ktrdr.config import get_settings  # noqa: E402
from ktrdr.logging_setup import configure_logging  # noqa: E402
from ktrdr.training.training_job import run_training_job  # noqa: E402
from ktrdr.workers.runtime import create_worker_app, serve  # noqa: E402

_settings = get_settings()
configure_logging(_settings.log_level, _settings.log_format)
app = create_worker_app("training", run_training_job, _settings)

if __name__ == "__main__":
    # python -m ktrdr.training.training_worker: like uvicorn, but a SIGTERM stop exits 0.
    serve(app, "training", _settings)
