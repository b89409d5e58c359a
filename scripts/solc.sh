#!/usr/bin/env bash
# Installs the pinned Solidity compiler (solc-js from the npm registry, version and integrity
# pinned by contracts/package-lock.json) into contracts/node_modules, installing node and npm
# through apt when they are missing. Then `node contracts/build.js` compiles contracts/src into
# contracts/out, the committed bytecode. Nothing else is downloaded.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "installing nodejs and npm" >&2
    sudo_=""
    [ "$(id -u)" -eq 0 ] || sudo_="sudo"
    $sudo_ apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_ apt-get install -y -qq nodejs npm >/dev/null
fi
want=$(node -e 'console.log(require("./contracts/package.json").dependencies.solc)')
have=$(node -e 'try { console.log(require("./contracts/node_modules/solc/package.json").version) } catch (e) { console.log("") }')
if [ "$have" != "$want" ]; then
    npm ci --prefix contracts --no-audit --no-fund --loglevel=error
fi
