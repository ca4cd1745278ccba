"""Operations already rendered as JSON, kept while they do not change.

Polling is what the read routes mostly serve, and most of a polled answer is rows that
have not changed since the last poll: turning each one into a model again (decoding its
JSON columns, validating) and the model into JSON again costs far more than the query.
Every write to an operation sets its ``updated_at`` from the store's strictly increasing
clock, so an operation's id with its stored ``updated_at`` names one version of the row;
its rendered text is reused until the row has a new one. Another backend writing the same
database changes ``updated_at`` as well, so nothing here can go stale: an entry is only
ever found for the very version it was rendered from.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable

# A backtest's rendered record is tens of kilobytes: this keeps about a thousand of them.
# Sizes are counted in characters: rendered JSON is nearly all ASCII, a byte each.
DEFAULT_MAX_BYTES = 32 * 1024 * 1024


class RenderedCache:
    """One rendered version per key, least recently used out first, bounded in size.

    A key (say, an operation's id and the shape rendered) holds the text of one version
    (its ``updated_at``); a newer version replaces it, an older one is never served.
    """

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self._max_bytes = max_bytes
        self._texts: OrderedDict[Hashable, tuple[Hashable, str]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable, version: Hashable) -> str | None:
        """The text rendered from exactly ``version`` of ``key``, if it is still kept."""
        with self._lock:
            entry = self._texts.get(key)
            if entry is None or entry[0] != version:
                return None
            self._texts.move_to_end(key)
            return entry[1]

    def put(self, key: Hashable, version: Hashable, text: str) -> None:
        if len(text) > self._max_bytes:
            return
        with self._lock:
            previous = self._texts.pop(key, None)
            if previous is not None:
                self._bytes -= len(previous[1])
            self._texts[key] = (version, text)
            self._bytes += len(text)
            while self._bytes > self._max_bytes:
                _, (_, evicted) = self._texts.popitem(last=False)
                self._bytes -= len(evicted)

    @property
    def size_bytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._texts)
