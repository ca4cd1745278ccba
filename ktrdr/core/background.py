"""A loop in a daemon thread, from ``start`` until ``stop`` (dispatcher, supervisor, presence)."""

from __future__ import annotations

import threading
from typing import ClassVar


class BackgroundLoop:
    """Runs ``_run`` in a daemon thread named ``thread_name``.

    ``_run`` waits on ``self._stop`` between rounds and returns once it is set. The
    thread is made with the object but started only by ``start``. It is made in
    ``__post_init__`` so that dataclass subclasses get it from their generated
    ``__init__``; a subclass with its own ``__post_init__`` calls this one.
    """

    thread_name: ClassVar[str]

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        self._interrupt_wait()
        self._thread.join(timeout_s)

    def _interrupt_wait(self) -> None:
        """Wake a loop that waits on something besides ``_stop`` (called once it is set)."""

    def _run(self) -> None:
        raise NotImplementedError
