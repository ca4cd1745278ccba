"""The jobs a worker can run. Importing a job imports the compute stack."""

from __future__ import annotations

from ktrdr.core.enums import WorkerType
from ktrdr.workers.context import JobFunction


def job_for(worker_type: WorkerType) -> JobFunction:
    """The job of this worker type (imports torch, numpy and pandas)."""
    if WorkerType(worker_type) == WorkerType.RESEARCH:
        from ktrdr.workers.jobs.research import run_research_job

        return run_research_job
    if WorkerType(worker_type) == WorkerType.TRAINING:
        from ktrdr.workers.jobs.training import run_training_job

        return run_training_job
    from ktrdr.workers.jobs.backtesting import run_backtest_job

    return run_backtest_job
