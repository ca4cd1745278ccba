"""Where the repository's files are, for tests in any folder."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
STRATEGIES_DIR = REPO_ROOT / "strategies"
