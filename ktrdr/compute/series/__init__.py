"""Price series as pandas frames (compute side): loading, resampling, lookahead-free alignment.

Reads through :class:`ktrdr.research.data.store.DataStore`; the store itself stays pandas-free.
"""

from ktrdr.compute.series.frames import (
    OHLCV_COLUMNS,
    align_to_base,
    bar_close_times,
    bars_to_frame,
    derivation_base,
    load_frame,
    load_timeframe,
    resample_ohlcv,
)

__all__ = [
    "OHLCV_COLUMNS",
    "align_to_base",
    "bar_close_times",
    "bars_to_frame",
    "derivation_base",
    "load_frame",
    "load_timeframe",
    "resample_ohlcv",
]
