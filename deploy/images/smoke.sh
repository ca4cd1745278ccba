#!/usr/bin/env bash
# Smoke-check one built ktrdr image with `docker run`; CI runs it on the linux/amd64 build
# before pushing, and people run it on a local or pulled image:
#
#   deploy/images/smoke.sh backend    ktrdr-backend:smoke
#   deploy/images/smoke.sh worker-cpu ghcr.io/OWNER/ktrdr-worker-cpu:sha-abc1234
#   deploy/images/smoke.sh worker-gpu ghcr.io/OWNER/ktrdr-worker-gpu:latest   (no GPU needed)
#
# The checks are those of `make images-check` (deploy/images/check.py) that need no
# running service:
#   every image   runs as non-root (`id -u` is not 0);
#   backend       `import torch` fails (no module named torch), `from ktrdr.api.main import
#                 app` works, a worker started from it (python -m
#                 ktrdr.workers backtesting) exits 3 naming the worker images;
#   worker-cpu    the ML stack imports, torch.version.cuda is None, CUDA is not available,
#                 no nvidia-*, triton or cuda-* distribution is installed;
#   worker-gpu    the ML stack imports, torch.version.cuda is set.
# Exit status: 0 all passed, 1 a check failed, 2 usage (unknown kind, wrong arguments).
# DOCKER overrides the client (e.g. DOCKER=podman); SMOKE_TIMEOUT_S (default 300) bounds
# each container run where coreutils' timeout exists (a worker started from the wrong
# image would otherwise serve forever).
# No -e: every check runs and is reported; the exit status sums them up.
set -uo pipefail

KINDS="backend worker-cpu worker-gpu"

usage() {
    echo "usage: $(basename "$0") <backend|worker-cpu|worker-gpu> <image-ref>" >&2
    exit 2
}

[ $# -eq 2 ] || usage
kind=$1
image=$2
case " $KINDS " in
    *" $kind "*) ;;
    *)
        echo "unknown image kind '$kind'; choose from: $KINDS" >&2
        usage
        ;;
esac
[ -n "$image" ] || usage

docker_cli=${DOCKER:-docker}
limit=()
if command -v timeout >/dev/null 2>&1; then
    limit=(timeout "${SMOKE_TIMEOUT_S:-300}")
fi
failures=0

# in_image CMD...: run CMD in a throw-away container of the image (through its entrypoint).
in_image() {
    "${limit[@]}" "$docker_cli" run --rm --network none "$image" "$@"
}

report() {  # report OK WHAT [DETAIL]
    if [ "$1" = 0 ]; then
        echo "  ok   $2"
    else
        echo "  FAIL $2${3:+: $3}"
        failures=$((failures + 1))
    fi
}

# Shared by both worker kinds: the compute stack imports (exit 3 with one line otherwise).
ML_STACK='from ktrdr.workers.ml_check import validate_ml_dependencies
validate_ml_dependencies("smoke")
print("ML stack imports")'

CPU_TORCH='import importlib.metadata as metadata, re, sys
import torch
problems = []
if torch.version.cuda is not None:
    problems.append(f"torch.version.cuda is {torch.version.cuda!r}, expected None")
if torch.cuda.is_available():
    problems.append("torch.cuda.is_available() is True")
cuda_only = sorted(
    name
    for name in (d.metadata["Name"] for d in metadata.distributions())
    if re.match(r"^(nvidia-.*|triton|cuda-.*)$", re.sub(r"[-_.]+", "-", name).lower())
)
if cuda_only:
    problems.append("CUDA-only distributions installed: " + ", ".join(cuda_only))
print(f"torch {torch.__version__} cuda={torch.version.cuda}")
for problem in problems:
    print(problem, file=sys.stderr)
sys.exit(1 if problems else 0)'

CUDA_TORCH='import sys
import torch
print(f"torch {torch.__version__} cuda={torch.version.cuda}")
sys.exit(0 if torch.version.cuda else 1)'

echo "$image ($kind)"

uid=$(in_image id -u 2>&1)
status=$?
if [ $status -eq 0 ] && [ -n "$uid" ] && [ "$uid" != 0 ]; then
    report 0 "runs as non-root (uid $uid)"
else
    report 1 "runs as non-root" "id -u gave '$uid' (exit $status)"
fi

case "$kind" in
    backend)
        out=$(in_image python -c 'import torch' 2>&1)
        status=$?
        if [ $status -ne 0 ] && [[ "$out" == *"No module named 'torch'"* ]]; then
            report 0 "import torch fails (no module named torch)"
        else
            report 1 "import torch fails" "exit $status: ${out:0:300}"
        fi

        out=$(in_image python -c 'from ktrdr.api.main import app; print(app.title)' 2>&1)
        status=$?
        report "$status" "from ktrdr.api.main import app works" "exit $status: ${out:0:300}"

        out=$(in_image python -m ktrdr.workers backtesting 2>&1)
        status=$?
        if [ $status -eq 3 ] && [[ "$out" == *"ktrdr-worker-cpu or ktrdr-worker-gpu"* ]]; then
            report 0 "a worker started from the backend image exits 3 naming the worker images"
        else
            report 1 "a worker started from the backend image exits 3" \
                "exit $status: ${out:0:300}"
        fi
        ;;
    worker-cpu | worker-gpu)
        out=$(in_image python -c "$ML_STACK" 2>&1)
        status=$?
        report "$status" "torch, numpy, pandas and talib import" "exit $status: ${out:0:300}"

        if [ "$kind" = worker-cpu ]; then
            out=$(in_image python -c "$CPU_TORCH" 2>&1)
            status=$?
            [ $status -eq 0 ]
            report $? "CPU torch, no CUDA packages (${out%%$'\n'*})" "exit $status: ${out:0:400}"
        else
            out=$(in_image python -c "$CUDA_TORCH" 2>&1)
            status=$?
            [ $status -eq 0 ]
            report $? "torch.version.cuda is set (${out%%$'\n'*})" "exit $status: ${out:0:300}"
        fi
        ;;
esac

if [ $failures -ne 0 ]; then
    echo "$failures check(s) failed for $image"
    exit 1
fi
echo "all checks passed for $image"
