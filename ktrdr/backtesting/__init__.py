"""The seed's module name for model loading; backtests are :mod:`ktrdr.compute.backtesting`.

Importing this package loads no torch.
"""
