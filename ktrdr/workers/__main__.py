"""``python -m ktrdr.workers backtesting|training|research`` (see :mod:`ktrdr.workers.entry`)."""

import sys

from ktrdr.workers.entry import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
