"""Remove what a worker never uses from an installed torch: C++ headers, C++ test
binaries, CMake files and static libraries.

    python deploy/scripts/trim_torch.py /app/.venv

Python modules, shared libraries and ``torch_shm_manager`` stay: the image tests
train and predict with the trimmed install. Prints what was removed.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

# Paths relative to the torch package.
REMOVABLE_DIRS = ("include", "test", "share/cmake")
KEEP_BINARIES = {"torch_shm_manager"}  # used by tensor sharing between processes
REMOVABLE_FILES = (
    "lib/libtorchbind_test.so",
    "lib/libjitbackend_test.so",
    "lib/libbackend_with_compiler.so",
)


def size_of(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def trim(torch_dir: Path) -> int:
    removed = 0
    targets = [torch_dir / d for d in REMOVABLE_DIRS] + [torch_dir / f for f in REMOVABLE_FILES]
    bin_dir = torch_dir / "bin"
    if bin_dir.is_dir():
        targets += [p for p in bin_dir.iterdir() if p.name not in KEEP_BINARIES]
    targets += list(torch_dir.rglob("*.a"))
    for path in targets:
        if not path.exists():
            continue
        size = size_of(path)
        shutil.rmtree(path) if path.is_dir() else path.unlink()
        removed += size
        print(f"removed {path.relative_to(torch_dir.parent)} ({size / 1e6:.1f} MB)")
    return removed


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__)
        return 2
    found = list(Path(argv[1]).glob("lib/python3*/site-packages/torch"))
    if not found:
        print(f"no torch under {argv[1]}", file=sys.stderr)
        return 1
    total = sum(trim(torch_dir) for torch_dir in found)
    print(f"trimmed {total / 1e6:.1f} MB from torch")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
