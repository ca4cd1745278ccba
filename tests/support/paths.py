"""Where the repository's files are, for tests in any folder."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
STRATEGIES_DIR = REPO_ROOT / "strategies"
# The strategies themselves: sweep spaces (*.space.yaml) live beside them.
STRATEGY_FILES = sorted(
    p for p in STRATEGIES_DIR.glob("*.yaml") if not p.name.endswith(".space.yaml")
)
