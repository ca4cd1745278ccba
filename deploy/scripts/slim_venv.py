"""Remove from a virtual environment what no ktrdr process ever loads, and strip the
debug symbols of its shared libraries.

    python deploy/scripts/slim_venv.py /app/.venv

Removed: packages' own test suites (directories named ``tests``) and test harnesses
(``sqlalchemy.testing``, ``alembic.testing``), SQLAlchemy's dialects for databases ktrdr
does not run on (MySQL, Oracle, SQL Server: it runs on SQLite or PostgreSQL), C/Cython
sources shipped next to compiled modules, torch's C++ headers, C++ test binaries, CMake
files and static libraries. Kept: every importable module and shared library (stripped with
``strip --strip-unneeded`` when binutils is present) and ``torch_shm_manager``. The image
checks train and predict with the result. Prints what it saved.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

SOURCE_SUFFIXES = {".c", ".cpp", ".h", ".pyx", ".pxd", ".pxi"}
TORCH_DIRS = ("include", "test", "share/cmake")
TORCH_FILES = ("lib/libtorchbind_test.so", "lib/libjitbackend_test.so")
KEEP_BINARIES = {"torch_shm_manager"}  # tensor sharing between processes
# Imported only by those packages' own test suites, and by code for other databases
# (alembic names them under TYPE_CHECKING only).
UNUSED_PACKAGE_DIRS = (
    "sqlalchemy/testing",
    "alembic/testing",
    "sqlalchemy/dialects/mysql",
    "sqlalchemy/dialects/oracle",
    "sqlalchemy/dialects/mssql",
)


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _targets(site_packages: Path) -> list[Path]:
    targets = [p for p in site_packages.rglob("tests") if p.is_dir()]
    targets += [site_packages / d for d in UNUSED_PACKAGE_DIRS if (site_packages / d).is_dir()]
    targets += [
        p
        for p in site_packages.rglob("*")
        if p.suffix in SOURCE_SUFFIXES and p.is_file() and "include" not in p.parts
    ]
    torch = site_packages / "torch"
    if torch.is_dir():
        targets += [torch / d for d in TORCH_DIRS] + [torch / f for f in TORCH_FILES]
        if (torch / "bin").is_dir():
            targets += [p for p in (torch / "bin").iterdir() if p.name not in KEEP_BINARIES]
        targets += list(torch.rglob("*.a"))
    return targets


def remove_unused(site_packages: Path) -> int:
    saved = 0
    for path in _targets(site_packages):
        if not path.exists():  # inside a directory removed earlier
            continue
        saved += _size(path)
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    return saved


def strip_libraries(venv: Path) -> int:
    strip = shutil.which("strip")
    if strip is None:
        print("strip not found (install binutils): shared libraries left as they are")
        return 0
    # Libraries that auditwheel vendored into "<package>.libs" were rewritten by patchelf;
    # strip breaks their ELF layout ("load command address/offset not page-aligned").
    libraries = [
        p
        for p in venv.rglob("*.so*")
        if p.is_file()
        and not p.is_symlink()
        and not p.parent.name.endswith(".libs")
        and "nvidia" not in p.parts  # NVIDIA's CUDA runtime stays exactly as shipped
    ]
    before = sum(p.stat().st_size for p in libraries)
    for library in libraries:
        subprocess.run([strip, "--strip-unneeded", str(library)], check=False)
    return before - sum(p.stat().st_size for p in libraries)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__)
        return 2
    venv = Path(argv[1])
    removed = sum(remove_unused(sp) for sp in venv.glob("lib/python3*/site-packages"))
    stripped = strip_libraries(venv)
    print(
        f"slimmed {venv}: {removed / 1e6:.1f} MB of unused files removed, "
        f"{stripped / 1e6:.1f} MB of debug symbols stripped"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
