"""The command line reads a binary file as a clear error, never a traceback.

(Beside the CLI's other tests: the backend image's core-only test run has no typer.)
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from ktrdr.cli.app import app as cli_app
from ktrdr.core.settings import get_settings


@pytest.mark.parametrize("command", ["import", "validate"])
def test_the_cli_reads_a_binary_file_without_a_traceback(
    command: str, tmp_path: Path, ktrdr_home: Path
) -> None:
    binary = tmp_path / "image.csv"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe")
    args = ["data", command, str(binary)] + (["--symbol", "BIN"] if command == "import" else [])
    get_settings.cache_clear()
    result = CliRunner().invoke(cli_app, args)
    assert result.exit_code == 1
    assert "is not UTF-8 text" in result.output
    assert "Traceback" not in result.output
