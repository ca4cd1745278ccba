"""Validation of symbols and timeframes that end up in file names.

A series is stored as ``<SYMBOL>_<TIMEFRAME>.csv``, so both parts are checked strictly
here: a symbol can never name another directory or a hidden file.
"""

from __future__ import annotations

import re

from ktrdr.data.timeframes import parse_timeframe

MAX_SYMBOL_LENGTH = 32
_SYMBOL_CHARS = re.compile(r"^[A-Z0-9._-]+$")


def validate_symbol(symbol: str) -> str:
    """Return the symbol in upper case, or raise ValueError naming the problem.

    Allowed: letters, digits, '.', '_' and '-', 1 to 32 characters, starting with a
    letter or digit, not ending with '.', and no '..'.
    """
    if not isinstance(symbol, str):
        raise ValueError(f"symbol must be a string, got {type(symbol).__name__}")
    if not symbol:
        raise ValueError("symbol is empty")
    if len(symbol) > MAX_SYMBOL_LENGTH:
        raise ValueError(
            f"symbol {symbol[:40]!r} is {len(symbol)} characters long; "
            f"the limit is {MAX_SYMBOL_LENGTH}"
        )
    if "/" in symbol or "\\" in symbol:
        raise ValueError(f"symbol {symbol!r} must not contain a path separator")
    if ".." in symbol:
        raise ValueError(f"symbol {symbol!r} must not contain '..'")
    upper = symbol.upper()
    # str.upper() maps some non-ASCII letters to ASCII ones, so check the original too.
    if not symbol.isascii() or not _SYMBOL_CHARS.match(upper):
        bad = sorted({c for c in symbol if not (c.isascii() and (c.isalnum() or c in "._-"))})
        raise ValueError(
            f"symbol {symbol!r} contains {', '.join(repr(c) for c in bad)}; "
            "only letters, digits, '.', '_' and '-' are allowed"
        )
    if not upper[0].isalnum():
        raise ValueError(f"symbol {symbol!r} must start with a letter or digit")
    if upper.endswith("."):
        raise ValueError(f"symbol {symbol!r} must not end with '.'")
    return upper


def validate_timeframe(timeframe: str) -> str:
    """Return the timeframe unchanged if valid (e.g. "1d"), else raise ValueError."""
    parse_timeframe(timeframe)
    return timeframe
