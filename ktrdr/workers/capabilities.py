"""What this worker's hardware and torch build can do, sent with its registration."""

from __future__ import annotations

from ktrdr.protocol import WorkerCapabilities


def detect_capabilities() -> WorkerCapabilities:
    # Imported here: the runtime package stays importable without the compute stack.
    import torch

    gpu = torch.cuda.is_available()
    mps = getattr(torch.backends, "mps", None)
    if gpu:
        device = torch.cuda.get_device_name(0)
    elif mps is not None and mps.is_available():
        device = "mps"
    else:
        device = "cpu"
    return WorkerCapabilities(
        gpu=gpu,
        device=device,
        torch_version=str(torch.__version__),
        cuda_version=torch.version.cuda,
    )
