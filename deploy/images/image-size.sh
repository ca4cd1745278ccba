#!/usr/bin/env bash
# Print an image's size as `on_disk_bytes compressed_bytes` (one line, plain integers).
#
#   deploy/images/image-size.sh localhost/ktrdr-backend:dev
#   deploy/images/image-size.sh --human localhost/ktrdr-backend:dev   # adds MB and layers
#
# The image is pushed from the private store (deploy/images/buildah.sh) into a throw-away
# OCI layout directory; buildah gzips each layer on the way, as it would for a registry.
#   on_disk_bytes    = sum of the layers' uncompressed tar streams (what `buildah images`
#                      and `docker images` report, within the tar headers' ~1 %)
#   compressed_bytes = sum of the gzip layer blobs (what a registry stores and a pull
#                      downloads; config and manifest, < 10 KB, not counted)
# buildah's gzip (pgzip, default level) is ~5 % larger than `gzip -6` on the same layer.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
store=${KTRDR_IMAGES_DIR:-$repo/.images}

human=0
if [ "${1:-}" = --human ]; then
	human=1
	shift
fi
if (($# != 1)); then
	echo "usage: image-size.sh [--human] IMAGE" >&2
	exit 2
fi
image=$1

mkdir -p "$store/tmp"
dir=$(mktemp -d "$store/tmp/size.XXXXXX")
trap 'rm -rf "$dir"' EXIT
"$here/buildah.sh" push --quiet --format oci "$image" "oci:$dir/layout:size" >/dev/null

python3 - "$dir/layout" "$human" <<'EOF'
import gzip, json, os, sys, zlib

layout, human = sys.argv[1], sys.argv[2] == "1"
blobs = os.path.join(layout, "blobs", "sha256")

def blob(digest):
    return os.path.join(blobs, digest.split(":", 1)[1])

index = json.load(open(os.path.join(layout, "index.json")))
manifest = json.load(open(blob(index["manifests"][0]["digest"])))
on_disk = compressed = 0
rows = []
for layer in manifest["layers"]:
    size = layer["size"]
    if layer["mediaType"].endswith("gzip"):
        n = 0
        with gzip.open(blob(layer["digest"]), "rb") as f:
            while chunk := f.read(1 << 20):
                n += len(chunk)
    else:  # uncompressed layer (should not happen with buildah's default push)
        n = size
        with open(blob(layer["digest"]), "rb") as f:
            c = zlib.compressobj(6, zlib.DEFLATED, 31)
            size = sum(len(c.compress(chunk)) for chunk in iter(lambda: f.read(1 << 20), b""))
            size += len(c.flush())
    on_disk += n
    compressed += size
    rows.append((n, size, layer["digest"][7:19]))
print(on_disk, compressed)
if human:
    for n, size, digest in rows:
        print(f"  layer {digest}  {n / 1e6:8.1f} MB  {size / 1e6:7.1f} MB gz", file=sys.stderr)
    print(f"  total              {on_disk / 1e6:8.1f} MB  {compressed / 1e6:7.1f} MB gz", file=sys.stderr)
EOF
