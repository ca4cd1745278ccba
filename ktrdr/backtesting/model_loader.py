"""Load a stored model (the seed's name for :mod:`ktrdr.compute.backtesting.model_loader`).

torch is imported only inside the functions that need it.
"""

from ktrdr.compute.backtesting.model_loader import LoadedModel, load_model

__all__ = ["LoadedModel", "load_model"]
