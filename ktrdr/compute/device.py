"""Which device torch computes on, and how many threads it may use: decided here only."""

from __future__ import annotations

import torch

from ktrdr.core.protocol import WorkerCapabilities


def pick_device(preferred: str | None = None) -> torch.device:
    """CUDA, then Apple MPS, then CPU, unless ``preferred`` names one."""
    if preferred:
        return torch.device(preferred)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if _mps_available():
        return torch.device("mps")
    return torch.device("cpu")


def describe_device() -> WorkerCapabilities:
    """What a worker tells the backend about its hardware and its torch build."""
    device = pick_device()
    name = torch.cuda.get_device_name(0) if device.type == "cuda" else device.type
    return WorkerCapabilities(
        gpu=device.type == "cuda",
        device=name,
        torch_version=str(torch.__version__),
        cuda_version=torch.version.cuda,
    )


def limit_threads(threads: int) -> None:
    """Cap torch's intra-op threads (a small MLP gains nothing from more, and several
    processes on one host would oversubscribe its cores)."""
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return mps is not None and mps.is_available()
