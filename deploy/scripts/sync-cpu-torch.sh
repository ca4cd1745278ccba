#!/bin/sh
# Install the locked environment with the CPU build of the locked torch.
#
# Every package of uv.lock is installed exactly as locked, except torch and its
# CUDA-only closure (nvidia-*, triton, cuda-*); then the CPU build of exactly the
# locked torch version goes in, from a local wheelhouse (air-gapped builds) when
# TORCH_WHEELHOUSE names one, else from TORCH_CPU_INDEX_URL.
#
# Bytecode is always compiled: where PYTHONDONTWRITEBYTECODE is set (as on the build
# machines) nothing would ever cache it, and every process would compile torch anew.
#
# Usage: sync-cpu-torch.sh [uv sync options...]   e.g. --extra ml --no-default-groups
set -eu

here=$(dirname "$0")
lock_tool="$here/lockfile.py"
python_for_tools=$(command -v python3 || command -v python)
torch_version=$("$python_for_tools" "$lock_tool" torch-version)
no_install=$("$python_for_tools" "$lock_tool" no-install-flags)
cpu_index=${TORCH_CPU_INDEX_URL:-https://download.pytorch.org/whl/cpu}

# shellcheck disable=SC2086  # the flags (and UV, e.g. "python3 -m uv") are word lists on purpose
${UV:-uv} sync --locked --inexact --compile-bytecode $no_install "$@"

venv_python="${UV_PROJECT_ENVIRONMENT:-.venv}/bin/python"
if "$venv_python" "$here/verify_env.py" --lock "${KTRDR_LOCK:-uv.lock}" --variant cpu --torch-only \
    >/dev/null 2>&1; then
    echo "torch $torch_version (CPU build) already installed"
    exit 0
fi

if [ -n "${TORCH_WHEELHOUSE:-}" ]; then
    source_flags="--no-index --find-links $TORCH_WHEELHOUSE"
else
    source_flags="--index-url $cpu_index"
fi
# --no-deps: torch's own non-CUDA dependencies were installed from the lock above.
# shellcheck disable=SC2086
${UV:-uv} pip install --python "$venv_python" --no-deps --reinstall-package torch --compile-bytecode \
    $source_flags "torch==$torch_version"
