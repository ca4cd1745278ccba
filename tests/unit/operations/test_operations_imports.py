"""The operations store is control-plane code: no compute stack on import."""

import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]
FORBIDDEN = ("numpy", "pandas", "torch", "talib", "sklearn")


def test_store_and_migrate_do_not_import_the_compute_stack() -> None:
    code = (
        "import sys\n"
        "import ktrdr.operations, ktrdr.operations.store, ktrdr.db.migrate\n"
        f"print(','.join(m for m in {FORBIDDEN!r} if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert result.stdout.strip() == ""
