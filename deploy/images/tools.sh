#!/usr/bin/env bash
# Install the daemonless image tools when they are missing (idempotent), then print versions.
#
#   deploy/images/tools.sh
#
# Needs root and Debian's package mirrors (bookworm). Installs:
#   buildah      builds Dockerfiles without a daemon (bookworm: 1.28.2; chroot isolation,
#                vfs storage; needs no OCI runtime, no fuse-overlayfs, no skopeo:
#                `buildah push` writes oci-archive:/docker-archive: files by itself).
#                Its dependencies pull in uidmap and containernetworking-plugins.
#   debootstrap  builds the Debian root filesystem of the local Python base image.
#   Nothing else: image-size.sh needs only python3.
set -euo pipefail

want=(buildah debootstrap)
missing=()
for cmd in "${want[@]}"; do
	command -v "$cmd" >/dev/null 2>&1 || missing+=("$cmd")
done

if ((${#missing[@]})); then
	if [ "$(id -u)" != 0 ]; then
		echo "tools.sh: missing ${missing[*]}; run as root to install them" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	# `apt-get update` only when the package lists do not know the packages yet.
	if ! apt-cache show "${missing[@]}" >/dev/null 2>&1 \
		|| [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' -mmin -1440 2>/dev/null | head -1)" ]; then
		apt-get update -qq
	fi
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

echo "buildah     $(buildah --version | awk '{print $3}')"
echo "debootstrap $(dpkg-query -W -f='${Version}' debootstrap)"
