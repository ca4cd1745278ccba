"""Entry point of the ``kinfra`` command (see :func:`ktrdr.cli.main.launch`)."""

from __future__ import annotations

from ktrdr.cli.main import launch


def main() -> None:
    launch("kinfra", "ktrdr.infra.sandbox.app")


if __name__ == "__main__":
    main()
