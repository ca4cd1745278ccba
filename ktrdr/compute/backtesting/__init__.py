"""Backtesting: replay model signals over bars and measure the result.

Kept empty on purpose: importing a submodule (``engine``, ``model_loader``) must not drag
in torch or the rest of the compute stack.
"""
