#!/usr/bin/env bash
# Builds a LOCAL STAND-IN for an official node:<version>-<debian>-slim base image, for machines that can reach the
# Debian mirror and the npm registry but no registry of container images. It is not the official image:
#   - the root file system is `debootstrap --variant=minbase <debian release>` from the mirror apt uses (the
#     official slim images start from debian:<release>-slim, also a minimal Debian, with a few more packages);
#   - Node.js is this machine's own install (/usr/bin/node and its bundled npm), so npm's version is this
#     machine's rather than the one the official image ships, and there is no yarn/corepack shim;
#   - the `node` user and group are 1000:1000, as in the official image.
# The production Dockerfile only relies on node, npm, a glibc Debian and user 1000, which both provide, so the
# image built on the stand-in is expected to behave as the one built on the real base.
#
#   test/support/base-image-stand-in.sh IMAGE_NAME     e.g. node:20.20.2-bookworm-slim
#
# Tags IMAGE_NAME in buildah's local storage (the caller builds with --pull=never); does nothing when the tag
# exists already (once per machine).
set -euo pipefail
name=$1
if buildah inspect --type image "$name" >/dev/null 2>&1; then
  echo "base image stand-in $name: already built"
  exit 0
fi
tag=${name##*:}
release=${tag##*-}
[[ $release == slim ]] && release=${tag%-slim} && release=${release##*-}
node_version=v${tag%%-*}
if [[ "$(node --version)" != "$node_version"* ]]; then
  echo "warning: this machine's node is $(node --version), the image name says $node_version" >&2
fi
node_bin=$(readlink -f "$(command -v node)")
npm_dir=$(dirname "$node_bin")/../lib/node_modules/npm
[[ -d $npm_dir ]] || { echo "npm not found next to $node_bin" >&2; exit 1; }
mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n1)
mirror=${mirror:-http://deb.debian.org/debian}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "base image stand-in $name: debootstrap --variant=minbase $release from $mirror"
debootstrap --variant=minbase "$release" "$work/rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 || {
  tail -n 20 "$work/debootstrap.log" >&2
  exit 1
}
rootfs=$work/rootfs
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
install -m 0755 "$node_bin" "$rootfs/usr/local/bin/node"
mkdir -p "$rootfs/usr/local/lib/node_modules"
cp -a "$npm_dir" "$rootfs/usr/local/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
chroot "$rootfs" groupadd --gid 1000 node
chroot "$rootfs" useradd --uid 1000 --gid node --shell /bin/bash --create-home node

container=$(buildah from scratch)
buildah copy --quiet "$container" "$rootfs" / >/dev/null
buildah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --env "NODE_VERSION=${node_version#v}" \
  --cmd node --label "org.opencontainers.image.description=local stand-in for $name (debootstrap $release + this machine's node), not the official image" \
  "$container"
buildah commit --quiet --format docker --rm "$container" "$name" >/dev/null
echo "base image stand-in $name: built"
