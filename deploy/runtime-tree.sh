#!/usr/bin/env bash
# Builds FAMOS's runtime tree in OUT from a checkout where `npm ci && npm run build` has run: the
# launcher, the built dist/, and the production dependencies only (`npm ci --omit=dev`; native addons
# are built for the node that runs this). The Dockerfile's build stage and test/ops/runtime-tree.test.ts
# both use this script, so the test proves the tree the image ships.
#
#   deploy/runtime-tree.sh OUT
set -euo pipefail
src="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:?usage: deploy/runtime-tree.sh OUT}"

[[ -f "$src/dist/famos.mjs" ]] || { echo "runtime-tree: $src/dist is missing; run npm run build first" >&2; exit 1; }
mkdir -p "$out/bin"
cp "$src/package.json" "$src/package-lock.json" "$out/"
cp "$src/bin/famos.js" "$out/bin/famos.js"
rm -rf "$out/dist"
cp -R "$src/dist" "$out/dist"
cd "$out"
if [[ -n "${FAMOS_ADDON_FROM:-}" ]]; then
  # Tests only (test/ops/runtime-tree.test.ts): better-sqlite3 is the one production dependency with
  # an install script, and the checkout's `npm ci` already built its addon for this same node. Reusing
  # that build (its whole build/, as node-gyp left it, so the clean-up below is tested too) saves
  # compiling SQLite again (about 75 s of CPU); the tree is otherwise the same. The
  # checkout's `npm ci` of the same lockfile filled npm's cache: --prefer-offline takes the packages
  # from it (their integrity still checked) rather than asking a registry that may be slow (a CI run
  # once spent 5 minutes here).
  npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error --prefer-offline
  rm -rf node_modules/better-sqlite3/build
  cp -R "$FAMOS_ADDON_FROM/node_modules/better-sqlite3/build" node_modules/better-sqlite3/build
else
  # Dependencies' install scripts run: better-sqlite3 builds its addon from source with node-gyp for the
  # node in use (never a downloaded prebuilt binary: same result with or without a network), both cores.
  export npm_config_build_from_source=true JOBS="${JOBS:-max}"
  npm ci --omit=dev --no-audit --no-fund --loglevel=error
fi
# Build leftovers the runtime never reads: of better-sqlite3's build (node-gyp's makefiles, objects,
# sqlite3.a, a test extension; 2.6 MB in the image) only the addon stays, with neither sources nor deps/.
sqlite=node_modules/better-sqlite3
mv "$sqlite/build/Release/better_sqlite3.node" "$sqlite/better_sqlite3.node"
rm -rf "$sqlite/build" "$sqlite/deps" "$sqlite/src"
mkdir -p "$sqlite/build/Release"
mv "$sqlite/better_sqlite3.node" "$sqlite/build/Release/better_sqlite3.node"
