"""Market data on disk: timeframes, symbols, the OHLCV CSV format and the series store.

Control-plane code: pure Python (no numpy or pandas), so the backend can list, validate
and import data without the compute stack. Frames for computation live in
:mod:`ktrdr.compute.series`.
"""
