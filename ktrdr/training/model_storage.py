"""Save and read versioned models (the seed's name for :mod:`ktrdr.compute.training.model_storage`).

torch is imported only inside the functions that (de)serialise weights.
"""

from ktrdr.compute.training.model_storage import (
    library_versions,
    load_weights,
    read_model_files,
    save_model,
)

__all__ = ["library_versions", "load_weights", "read_model_files", "save_model"]
