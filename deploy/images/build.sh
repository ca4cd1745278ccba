#!/usr/bin/env bash
# Build the ktrdr images daemonlessly (buildah, private store) from the same Dockerfiles
# CI builds with python:3.13-slim, here on the local Debian base and, for the CPU images,
# with the local torch wheelhouse.
#
#   deploy/images/build.sh backend worker-cpu dev        # default: backend worker-cpu dev
#   IMAGE_TAG=test deploy/images/build.sh worker-gpu
# The dev image is always tagged ktrdr-backend:dev, as compose and sandboxes expect.
#
# Environment: IMAGE_TAG (default test), TORCH_WHEELHOUSE (a folder holding the CPU torch
# wheel; default: pip's find-links), BASE_IMAGE, UV_VERSION.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$repo"
images=("$@")
[ ${#images[@]} -gt 0 ] || images=(backend worker-cpu dev)
tag=${IMAGE_TAG:-test}
base=${BASE_IMAGE:-localhost/ktrdr-base:bookworm-py311}
uv_version=${UV_VERSION:-0.13.9}
wheelhouse=${TORCH_WHEELHOUSE:-${PIP_FIND_LINKS:-}}
buildah=deploy/images/buildah.sh

deploy/images/tools.sh >/dev/null
BASE_IMAGE=$base deploy/images/base-image.sh
deploy/images/uv-image.sh "$uv_version"

# The wheelhouse travels in the build context; only the locked torch version goes in.
torch_version=$(python3 deploy/scripts/lockfile.py torch-version)
find deploy/docker/wheelhouse -name '*.whl' -delete
wheel_arg=()
if [ -n "$wheelhouse" ] && compgen -G "$wheelhouse/torch-${torch_version}+cpu-*.whl" >/dev/null; then
    for wheel in "$wheelhouse"/torch-"${torch_version}"+cpu-*.whl; do
        ln -f "$wheel" deploy/docker/wheelhouse/ 2>/dev/null || cp "$wheel" deploy/docker/wheelhouse/
    done
    wheel_arg=(--build-arg TORCH_WHEELHOUSE=/wheelhouse)
fi

revision=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
for image in "${images[@]}"; do
    image_tag=$tag
    case $image in
        backend) name=ktrdr-backend ;;
        worker-cpu) name=ktrdr-worker-cpu ;;
        worker-gpu) name=ktrdr-worker-gpu ;;
        dev) name=ktrdr-backend image_tag=dev ;;  # the seed's ktrdr-backend:dev
        *) echo "unknown image $image (backend, worker-cpu, worker-gpu, dev)" >&2; exit 2 ;;
    esac
    # buildah 1.28 drops the uv stage's source image after a build: make sure it is there.
    deploy/images/uv-image.sh "$uv_version" >/dev/null
    started=$(date +%s)
    "$buildah" build --quiet \
        -f "deploy/docker/Dockerfile.$image" \
        --build-arg "BASE_IMAGE=$base" \
        --build-arg "UV_IMAGE=localhost/uv:$uv_version" \
        --build-arg "REVISION=$revision" \
        "${wheel_arg[@]}" \
        -t "localhost/$name:$image_tag" . >/dev/null
    echo "built localhost/$name:$image_tag in $(( $(date +%s) - started ))s"
done
"$buildah" rmi --prune >/dev/null 2>&1 || true
find deploy/docker/wheelhouse -name '*.whl' -delete
