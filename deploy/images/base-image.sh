#!/usr/bin/env bash
# Build the local Python base image from Debian's packages (no registry is reachable, so
# `FROM python:3.x-slim` cannot be pulled), in the project's private image store.
#
#   deploy/images/base-image.sh            # build when missing or when its inputs changed
#   deploy/images/base-image.sh --force    # rebuild regardless
#   BASE_IMAGE=localhost/other:tag deploy/images/base-image.sh
#
# Result: localhost/ktrdr-base:bookworm-py311, a Debian bookworm minbase root filesystem with
#   python3 (CPython 3.11), python3-venv (so `python -m venv` gives a venv with pip),
#   ca-certificates and tini (/usr/bin/tini); bookworm-updates/-security applied; no curl
#   (healthchecks use python). Like python:3.x-slim it has /usr/local/bin/python, python3,
#   pip and pip3 (pip runs from Debian's pip wheel and installs into /usr/local, as the
#   EXTERNALLY-MANAGED marker is removed), PATH with /usr/local/bin first, LANG=C.UTF-8,
#   apt sources that work (`apt-get update` first: the lists are stripped), and a dpkg
#   configuration that keeps docs, man pages and locales out of later `apt-get install`s.
#   SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt (Debian's own bundle): uv then trusts
#   the system bundle instead of its compiled-in roots, so `uv sync` in a build trusts the
#   host's CA bundle that deploy/images/buildah.sh mounts there during RUN steps.
#   No application user: create one with groupadd/useradd (passwd is in minbase).
#
# Cache: the image carries a label with the hash of this script and the package list; when
# an image of that name with that label exists the script only prints its size. Debian
# packages are cached in .images/debootstrap-cache between runs.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
store=${KTRDR_IMAGES_DIR:-$repo/.images}
image=${BASE_IMAGE:-localhost/ktrdr-base:bookworm-py311}
suite=bookworm
packages=(python3 python3-venv ca-certificates tini)
label=org.ktrdr.base.inputs
buildah=("$here/buildah.sh")

force=0
for arg in "$@"; do
	case $arg in
	--force) force=1 ;;
	-h | --help)
		sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
		exit 0
		;;
	*)
		echo "base-image.sh: unknown argument $arg" >&2
		exit 2
		;;
	esac
done

"$here/tools.sh" >/dev/null

inputs=$( (
	cat "$0"
	echo "$suite ${packages[*]}"
) | sha256sum | cut -c1-16)

mb() { awk -v b="$1" 'BEGIN { printf "%.1f MB", b / 1e6 }'; }

if ((!force)) && current=$("${buildah[@]}" inspect --type image \
	--format "{{index .OCIv1.Config.Labels \"$label\"}}" "$image" 2>/dev/null) \
	&& [ "$current" = "$inputs" ]; then
	size=$("${buildah[@]}" images --format '{{.Size}}' "$image" | head -1)
	echo "$image is up to date (inputs $inputs, $size on disk); --force rebuilds"
	exit 0
fi

# The Debian mirror and the security archive come from this machine's apt configuration
# (they are known to be reachable); DEBIAN_MIRROR overrides the mirror.
sources=/etc/apt/sources.list.d/debian.sources
mirror=${DEBIAN_MIRROR:-}
if [ -z "$mirror" ] && [ -f "$sources" ]; then
	mirror=$(awk '/^URIs:/ && $2 !~ /security/ { print $2; exit }' "$sources")
fi
if [ -z "$mirror" ] && [ -f /etc/apt/sources.list ]; then
	mirror=$(awk '/^deb / && $0 !~ /security/ { print $2; exit }' /etc/apt/sources.list)
fi
if [ -z "$mirror" ]; then
	echo "base-image.sh: no Debian mirror in the apt sources; set DEBIAN_MIRROR" >&2
	exit 1
fi

# The image this build replaces; removed after the commit when nothing else uses it.
old=$("${buildah[@]}" images --noheading --quiet "$image" 2>/dev/null | head -1 || true)

t0=$(date +%s.%N)
lap() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f s", b - a }'; }

ctr=$("${buildah[@]}" from --name "ktrdr-base-build-$$" scratch)
mnt=
cleanup() {
	[ -n "$mnt" ] && "${buildah[@]}" umount "$ctr" >/dev/null 2>&1
	"${buildah[@]}" rm "$ctr" >/dev/null 2>&1 || true
}
trap cleanup EXIT
mnt=$("${buildah[@]}" mount "$ctr")

# 1. debootstrap straight into the working container's root filesystem.
mkdir -p "$store/debootstrap-cache"
t=$(date +%s.%N)
include=$(
	IFS=,
	echo "${packages[*]}"
)
debootstrap --variant=minbase --include="$include" --cache-dir="$store/debootstrap-cache" \
	"$suite" "$mnt" "$mirror" >"$store/debootstrap.log" 2>&1 || {
	tail -20 "$store/debootstrap.log" >&2
	exit 1
}
echo "debootstrap ($suite minbase + ${packages[*]}): $(lap "$t")"

# 2. apt sources with updates and security, then the pending updates.
t=$(date +%s.%N)
if [ -f "$sources" ]; then
	grep -v '^#' "$sources" >"$mnt/etc/apt/sources.list.d/debian.sources"
	rm -f "$mnt/etc/apt/sources.list"
fi
cat >"$mnt/etc/dpkg/dpkg.cfg.d/ktrdr-slim" <<'EOF'
# Keep docs, man pages and translations out of the image (as Debian's slim images do).
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
EOF
cat >"$mnt/etc/apt/apt.conf.d/ktrdr-slim" <<'EOF'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
Acquire::Languages "none";
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
EOF
"${buildah[@]}" run "$ctr" -- sh -c \
	'export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && apt-get -y -qq upgrade' \
	>"$store/apt-upgrade.log" 2>&1 || {
	tail -20 "$store/apt-upgrade.log" >&2
	exit 1
}
echo "apt upgrade (updates + security): $(lap "$t")"

# 3. Strip what a runtime does not need.
find "$mnt/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
find "$mnt/usr/share/doc" -mindepth 1 -type d -empty -delete
rm -rf "$mnt"/var/lib/apt/lists/* "$mnt"/var/cache/apt/* "$mnt"/var/cache/debconf/*-old \
	"$mnt"/usr/share/man/* "$mnt"/usr/share/info/* "$mnt"/usr/share/locale/* \
	"$mnt"/usr/share/lintian "$mnt"/var/log/*.log "$mnt"/var/log/apt/* \
	"$mnt"/var/lib/dpkg/*-old "$mnt"/tmp/* "$mnt"/root/.cache
: >"$mnt/etc/resolv.conf" 2>/dev/null || true
# python:3.x-slim has no EXTERNALLY-MANAGED marker: `pip install` into the image works there.
rm -f "$mnt"/usr/lib/python3*/EXTERNALLY-MANAGED

# 4. python, python3, pip, pip3 in /usr/local/bin, as on python:3.x-slim.
ln -sf /usr/bin/python3 "$mnt/usr/local/bin/python3"
ln -sf /usr/bin/python3 "$mnt/usr/local/bin/python"
pip_whl=$(cd "$mnt" && find usr/share/python-wheels -name "pip-*.whl" 2>/dev/null | head -1)
if [ -n "$pip_whl" ]; then
	cat >"$mnt/usr/local/bin/pip" <<EOF
#!/bin/sh
# pip from Debian's wheel (python3-pip-whl); installs go to /usr/local.
exec /usr/bin/python3 /$pip_whl/pip "\$@"
EOF
	chmod 755 "$mnt/usr/local/bin/pip"
	ln -sf pip "$mnt/usr/local/bin/pip3"
fi
rootfs_bytes=$(du -sb "$mnt" | cut -f1)
python_version=$("${buildah[@]}" run "$ctr" -- python --version 2>&1 | awk '{print $2}')

# 5. Image configuration and commit.
t=$(date +%s.%N)
"${buildah[@]}" config \
	--os linux --arch amd64 \
	--env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	--env LANG=C.UTF-8 \
	--env SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
	--workingdir / \
	--cmd '["python3"]' \
	--label "$label=$inputs" \
	--label "org.ktrdr.base.python=$python_version" \
	--label "org.opencontainers.image.description=Debian $suite minbase + ${packages[*]}" \
	"$ctr"
"${buildah[@]}" umount "$ctr" >/dev/null
mnt=
"${buildah[@]}" commit --quiet --rm --format docker "$ctr" "$image" >/dev/null
trap - EXIT
echo "commit: $(lap "$t")"
if [ -n "$old" ]; then
	"${buildah[@]}" rmi "$old" >/dev/null 2>&1 || true
fi

read -r on_disk compressed < <("$here/image-size.sh" "$image")
echo "$image (python $python_version, inputs $inputs)"
echo "  rootfs on disk:   $(mb "$rootfs_bytes")"
echo "  image on disk:    $(mb "$on_disk")"
echo "  image compressed: $(mb "$compressed") (gzip layers, as a registry stores them)"
echo "  total time:       $(lap "$t0")"
