#!/usr/bin/env bash
# A local stand-in for ghcr.io/astral-sh/uv:<version> (no registry is reachable here):
# a scratch image holding /uv and /uvx, taken from uv's wheel on PyPI.
#
#   deploy/images/uv-image.sh 0.13.9      # -> localhost/uv:0.13.9 (skipped when present)
set -euo pipefail
version=${1:?usage: uv-image.sh VERSION}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
buildah="$here/buildah.sh"
image="localhost/uv:$version"
if "$buildah" inspect --type image "$image" >/dev/null 2>&1; then
    echo "$image present"
    exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m pip download --quiet --no-deps --only-binary=:all: \
    --platform manylinux2014_x86_64 --dest "$work" "uv==$version"
python3 - "$work" <<'PY'
import pathlib, sys, zipfile
work = pathlib.Path(sys.argv[1])
wheel = next(work.glob("uv-*.whl"))
with zipfile.ZipFile(wheel) as archive:
    for member in archive.namelist():
        name = member.rsplit("/", 1)[-1]
        if ".data/scripts/" in member and name in {"uv", "uvx"}:
            target = work / name
            target.write_bytes(archive.read(member))
            target.chmod(0o755)
PY
container=$("$buildah" from scratch)
"$buildah" copy "$container" "$work/uv" /uv >/dev/null
"$buildah" copy "$container" "$work/uvx" /uvx >/dev/null
"$buildah" commit --rm "$container" "$image" >/dev/null
echo "$image built"
