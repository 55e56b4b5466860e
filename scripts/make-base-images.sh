#!/usr/bin/env bash
# Makes the base image the Dockerfile's build stage starts from, without pulling anything from a
# public container registry: a Debian bookworm made with debootstrap from the Debian mirror apt
# uses on this machine, plus this machine's Node.js 20 (node and npm, from its nodejs package).
# The final stage needs no base image (FROM scratch).
#
#   scripts/make-base-images.sh            prints the image reference (made once, then cached)
#
# The image is tagged with a hash of its inputs (mirror, suite, node version), so a rerun with
# the same inputs finds it in podman's storage and returns at once.
set -euo pipefail

suite=bookworm
node_bin=$(command -v node)
node_version=$("$node_bin" --version)
npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")   # .../node_modules/npm

# The Debian mirror apt uses here: the first URIs of a deb822 .sources file or the first `deb` line.
mirror=${DEBOOTSTRAP_MIRROR:-}
if [ -z "$mirror" ]; then
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -e "$f" ] || continue
    mirror=$(awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i !~ /security/) { print $i; exit } }' "$f")
    [ -n "$mirror" ] && break
  done
fi
if [ -z "$mirror" ] && [ -e /etc/apt/sources.list ]; then
  mirror=$(awk '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /:\/\//) { print $i; exit } }' /etc/apt/sources.list)
fi
[ -n "$mirror" ] || { echo "no Debian mirror found in /etc/apt/sources.list*; set DEBOOTSTRAP_MIRROR" >&2; exit 1; }

key=$(printf '%s\n' "$suite" "$mirror" "$node_version" "$(sha256sum "$node_bin" | cut -c1-16)" v1 | sha256sum | cut -c1-12)
node_image="localhost/cap-token-refresh-base/node:${node_version#v}-${suite}-${key}"

if podman image exists "$node_image"; then
  echo "$node_image"
  exit 0
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/ctr-base-XXXXXX")
trap 'rm -rf "$work"' EXIT
rootfs=$work/rootfs
echo "debootstrap $suite (minbase) from $mirror" >&2
debootstrap --variant=minbase "$suite" "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 \
  || { tail -20 "$work/debootstrap.log" >&2; exit 1; }
# What a container image does not need: apt's lists and caches, docs.
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/*

# Node.js where the official node image has it: /usr/local/bin/node and npm beside it.
install -D -m 0755 "$node_bin" "$rootfs/usr/local/bin/node"
mkdir -p "$rootfs/usr/local/lib/node_modules"
cp -a "$npm_dir" "$rootfs/usr/local/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"

tar -C "$rootfs" --numeric-owner -c . | podman import -q \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'CMD ["node"]' - "$node_image" >/dev/null
echo "$node_image"
