"""A training whose worker is killed resumes on another worker from its checkpoint.

Real processes: the backend, a training worker killed with SIGKILL mid-training, and a
second worker that takes the re-queued operation. The resumed model's weights file is
byte for byte the one an uninterrupted training of the same strategy stores.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from tests.support.fake_backend import wait_for
from tests.support.stack import Stack, canary_strategy

pytestmark = pytest.mark.integration
EPOCHS = 60


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    running = Stack(
        home=tmp_path / "home",
        env_overrides={"KTRDR_OPERATION_MAX_RETRIES": "1", "KTRDR_CHECKPOINT_EVERY_EPOCHS": "1"},
    )
    running.start_backend()
    yield running
    running.stop_all()


def checkpointed_epoch(path: Path) -> int:
    try:
        return int(torch.load(path, weights_only=True)["epoch"])
    except (FileNotFoundError, RuntimeError, EOFError):  # not there yet
        return 0


def test_a_killed_training_resumes_elsewhere_to_the_same_weights(stack: Stack) -> None:
    stack.put_strategy("canary_resume", canary_strategy("canary_resume", EPOCHS))
    stack.start_worker("first", "training")
    stack.wait_for_workers(training=1)
    op_id = stack.post("/trainings/start", {"strategy_name": "canary_resume"})["operation_id"]
    checkpoint = stack.home / "models" / ".checkpoints" / f"{op_id}.pt"
    wait_for(lambda: checkpointed_epoch(checkpoint) >= 5, timeout_s=60, interval_s=0.05)
    stack.stop("first", signal.SIGKILL)
    saved = checkpointed_epoch(checkpoint)
    assert 5 <= saved < EPOCHS  # killed mid-training

    stack.start_worker("second", "training")
    done = stack.wait_status(op_id, "completed", "failed", timeout_s=120)
    assert done["status"] == "completed", done["error"]
    assert done["worker_id"] == "second"
    assert done["attempts"] == 1  # one re-queue
    resumed = done["result"]
    assert saved <= resumed["resumed_from_epoch"] < EPOCHS
    assert resumed["epochs_run"] == EPOCHS
    assert not checkpoint.exists()  # removed once the model is stored

    reference_id = stack.post("/trainings/start", {"strategy_name": "canary_resume"})[
        "operation_id"
    ]
    reference = stack.wait_status(reference_id, "completed", "failed", timeout_s=120)
    assert reference["status"] == "completed", reference["error"]
    assert reference["result"]["resumed_from_epoch"] is None
    assert resumed["history"] == reference["result"]["history"]
    weights = [Path(r["model_path"]) / "model.pt" for r in (resumed, reference["result"])]
    assert weights[0] != weights[1]
    assert weights[0].read_bytes() == weights[1].read_bytes()
