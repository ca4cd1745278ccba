"""Names that end up in file names and URLs: identifiers (strategies, indicators) and symbols.

A series is stored as ``<SYMBOL>_<TIMEFRAME>.csv`` and a model under
``<strategy>/<timeframe>_v<N>``, so every part is checked strictly here: a name can never
point into another directory or at a hidden file.
"""

from __future__ import annotations

import re

from ktrdr.core.errors import InvalidInputError

# Strategy names, indicator and fuzzy set ids, term names.
IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
MAX_SYMBOL_LENGTH = 32
_SYMBOL_CHARS = re.compile(r"^[A-Z0-9._-]+$")


def validate_identifier(value: str, what: str = "name", *, field: str | None = None) -> str:
    """``value`` unchanged if it is an identifier, else InvalidInputError naming ``what``."""
    if not isinstance(value, str) or not IDENTIFIER.match(value):
        raise InvalidInputError(
            f"{what} {str(value)[:70]!r} must start with a letter and contain only letters, "
            "digits and _ (at most 64 characters)",
            field=field,
        )
    return value


def validate_symbol(symbol: str, *, field: str = "symbol") -> str:
    """Return the symbol in upper case, or raise InvalidInputError naming the problem.

    Allowed: letters, digits, '.', '_' and '-', 1 to 32 characters, starting with a
    letter or digit, not ending with '.', and no '..'.
    """
    problem = _symbol_problem(symbol)
    if problem:
        raise InvalidInputError(problem, field=field)
    return symbol.upper()


def _symbol_problem(symbol: object) -> str | None:
    if not isinstance(symbol, str):
        return f"symbol must be a string, got {type(symbol).__name__}"
    if not symbol:
        return "symbol is empty"
    if len(symbol) > MAX_SYMBOL_LENGTH:
        return (
            f"symbol {symbol[:40]!r} is {len(symbol)} characters long; "
            f"the limit is {MAX_SYMBOL_LENGTH}"
        )
    if "/" in symbol or "\\" in symbol:
        return f"symbol {symbol!r} must not contain a path separator"
    if ".." in symbol:
        return f"symbol {symbol!r} must not contain '..'"
    upper = symbol.upper()
    # str.upper() maps some non-ASCII letters to ASCII ones, so check the original too.
    if not symbol.isascii() or not _SYMBOL_CHARS.match(upper):
        bad = sorted({c for c in symbol if not (c.isascii() and (c.isalnum() or c in "._-"))})
        return (
            f"symbol {symbol!r} contains {', '.join(repr(c) for c in bad)}; "
            "only letters, digits, '.', '_' and '-' are allowed"
        )
    if not upper[0].isalnum():
        return f"symbol {symbol!r} must start with a letter or digit"
    if upper.endswith("."):
        return f"symbol {symbol!r} must not end with '.'"
    return None
