#!/usr/bin/env bash
# buildah with the project's PRIVATE image store, for building and running images without a
# daemon (no Docker daemon, no registry on the build machines; run as root).
#
#   deploy/images/buildah.sh build -f deploy/docker/Dockerfile.backend \
#       --build-arg BASE_IMAGE=localhost/ktrdr-base:bookworm-py311 -t localhost/ktrdr-backend:dev .
#   deploy/images/buildah.sh from --name probe localhost/ktrdr-backend:dev
#   deploy/images/buildah.sh run probe -- python -c 'import sys; print(sys.version)'
#   deploy/images/buildah.sh rm probe
#   deploy/images/buildah.sh images
#
# Every call gets `--root .images/storage --runroot .images/run --storage-driver vfs`
# (.images/ is git-ignored; KTRDR_IMAGES_DIR moves it) and TMPDIR=.images/tmp.
# `bud`/`build`/`run` get `--isolation chroot` (BUILDAH_ISOLATION=chroot covers `from`): the
# default "oci" isolation needs an OCI runtime (none is installed) and namespaces.
# `bud`/`build` also get:
#   --layers=$BUILDAH_LAYERS (default false): each stage is committed as ONE layer on top of
#       its FROM image, and nothing is cached between builds but the RUN cache mounts. With
#       vfs storage every committed layer is a full copy of the root filesystem, so
#       BUILDAH_LAYERS=true (one layer per instruction, `docker build`'s step cache) costs a
#       full copy per instruction: measured 1.7 GB of store and 30 s for two builds of a
#       150 MB two-stage image, against 0.45 GB and 10-12 s per build with false.
#       With false, a `RUN chown -R` after a COPY does not duplicate the files as it would
#       under docker; build once with BUILDAH_LAYERS=true to see docker's layer sizes.
#   --force-rm: a failed build would leave its working container (a full copy) behind.
#   --volume <host CA bundle>:/etc/ssl/certs/ca-certificates.crt:ro: RUN steps trust what
#       the host trusts. Downloads from inside a build go through the host's egress, whose
#       TLS certificates are signed by a CA found only in the host's bundle ($SSL_CERT_FILE):
#       without it pip and uv fail with CERTIFICATE_VERIFY_FAILED / UnknownIssuer. The mount
#       is never part of a layer; KTRDR_BUILD_HOST_CA=0 turns it off. pip (Debian's) reads
#       that file; uv reads it because the base image sets SSL_CERT_FILE to it (on another
#       base, set UV_NATIVE_TLS=1 or SSL_CERT_FILE in the builder stage).
# BUILDAH_FORMAT defaults to docker: in the OCI format buildah drops HEALTHCHECK (warning
# "HEALTHCHECK is not supported for OCI image format and will be ignored"; SHELL and ONBUILD
# likewise); the docker (v2s2) format keeps them. BUILDAH_FORMAT=oci gives OCI images.
#
# Findings on this machine (Debian bookworm, buildah 1.28.2, vfs, chroot isolation):
# (a) `RUN --mount=type=cache,target=/root/.cache/uv` works, with `id=`, `sharing=locked`,
#     `uid=`/`gid=` too, and so do `--mount=type=bind,source=uv.lock,target=...` and
#     `--mount=type=secret`, `COPY --chmod`, `COPY --chown`, `ARG` before `FROM`, and a
#     `# syntax=` line (ignored). The cache directory is $TMPDIR/buildah-cache/<target>
#     (.images/tmp/buildah-cache/root/.cache/uv): it survives builds, is shared by every
#     build that names the same target, and is not part of the image; delete it to empty
#     the cache. uv warns "Failed to hardlink files" across the mount: set UV_LINK_MODE=copy.
#     pip's HTTP cache stays empty here (the egress' responses are not cacheable), uv's fills.
#     NOT supported by this buildah: `COPY --link` (error) and heredocs (`RUN <<EOF`, error).
#     Should cache mounts ever fail, drop the --mount and add `--no-cache-dir` (pip) or
#     `UV_NO_CACHE=1` (uv): same image, slower builds.
# (b) A server started with `buildah run` IS reachable from the host on 127.0.0.1: chroot
#     isolation keeps the host's network namespace (no port mapping: the port in the
#     container is the host's port; binding 0.0.0.0 binds the host's interfaces). It also
#     keeps the host's PID namespace (tini is not PID 1: it warns unless run with `-s` or
#     TINI_SUBREAPER=1) but gets its own hostname. `buildah run` does not apply the image's
#     ENTRYPOINT/CMD: name the command. It does apply USER, WORKDIR and ENV. Run a server in
#     its own process group and stop the group, since killing only `buildah run` leaves the
#     server orphaned and broken (its stderr pipe is gone):
#         setsid deploy/images/buildah.sh run ctr -- python -m http.server 18080 & pg=$!
#         curl -fsS http://127.0.0.1:18080/ ; kill -TERM -- -$pg
# (c) Sizes: `deploy/images/image-size.sh IMAGE` prints `on_disk_bytes compressed_bytes`:
#     it pushes the image to a throw-away OCI layout (`buildah push IMAGE oci:DIR`, buildah
#     gzips each layer as it would for a registry), sums the gzip layer blobs (compressed)
#     and their uncompressed tar streams (on disk, what `buildah images`/`docker images`
#     show). skopeo is not needed. `buildah images` shows the on-disk size rounded.
# Other gotchas:
# - vfs keeps a full copy of the root filesystem per layer AND per working container
#   (`from`, each build stage): prune with `deploy/images/buildah.sh rmi --prune` (a rebuild
#   leaves the previous image untagged), `rm --all`, or delete .images/storage.
# - chroot isolation is not a container runtime: no cgroup limits, no network/PID
#   isolation, no seccomp. Fine for builds and smoke tests. `podman run` does not work here.
# - FROM images must be in this store (no registry is reachable): name them fully qualified
#   (localhost/...); build the base with deploy/images/base-image.sh.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
store=${KTRDR_IMAGES_DIR:-$repo/.images}
mkdir -p "$store/storage" "$store/run" "$store/tmp"

# buildah keeps RUN --mount=type=cache directories in $TMPDIR/buildah-cache/<target path>
# (default /var/tmp): keep them, and buildah's other temporary files, in the private store.
export TMPDIR=${KTRDR_IMAGES_TMPDIR:-$store/tmp}

export BUILDAH_ISOLATION=chroot
export BUILDAH_FORMAT=${BUILDAH_FORMAT:-docker}
layers=${BUILDAH_LAYERS:-false}

global=(--root "$store/storage" --runroot "$store/run" --storage-driver vfs)

if (($# == 0)); then
	exec buildah "${global[@]}" --help
fi

cmd=$1
shift
# The host's CA bundle over the image's during RUN steps (see above).
host_ca=${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}
ca=()
if [ "${KTRDR_BUILD_HOST_CA:-1}" != 0 ] && [ -f "$host_ca" ]; then
	ca=(--volume "$host_ca:/etc/ssl/certs/ca-certificates.crt:ro")
fi

case $cmd in
bud | build | build-using-dockerfile)
	# buildah 1.28 accepts --force-rm only next to an explicit --layers; a later --layers
	# from the caller still wins.
	exec buildah "${global[@]}" "$cmd" --isolation chroot --layers="$layers" --force-rm \
		"${ca[@]}" "$@"
	;;
run)
	exec buildah "${global[@]}" "$cmd" --isolation chroot "$@"
	;;
*)
	exec buildah "${global[@]}" "$cmd" "$@"
	;;
esac
