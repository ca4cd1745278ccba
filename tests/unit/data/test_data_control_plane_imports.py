"""ktrdr.data is control-plane code: importing it must not pull in the compute stack."""

import subprocess
import sys

FORBIDDEN = ("numpy", "pandas", "torch", "talib", "sklearn")


def test_data_modules_do_not_import_the_compute_stack():
    code = (
        "import sys\n"
        "import ktrdr.data.store, ktrdr.data.csv_format, ktrdr.data.symbols, "
        "ktrdr.data.timeframes\n"
        f"print(','.join(m for m in {FORBIDDEN!r} if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == ""
