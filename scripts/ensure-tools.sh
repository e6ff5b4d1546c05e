#!/usr/bin/env bash
# Installs what llmq needs on a fresh Debian machine with only Node >= 20 and npm:
# pnpm (the exact version in package.json), redis-server, and, with --browser, chromium.
set -euo pipefail
cd "$(dirname "$0")/.."

need_browser=false
[[ "${1:-}" == "--browser" ]] && need_browser=true

node_major=$(node -p 'process.versions.node.split(".")[0]')
if (( node_major < 20 )); then
  echo "llmq needs Node >= 20 (found $(node -v))" >&2
  exit 1
fi

pnpm_version=$(node -p 'require("./package.json").packageManager.split("@")[1]')
if [[ "$(pnpm --version 2>/dev/null || true)" != "$pnpm_version" ]]; then
  echo "installing pnpm@$pnpm_version"
  npm install -g --no-fund --no-audit "pnpm@$pnpm_version" >/dev/null
fi

apt_packages=()
command -v redis-server >/dev/null 2>&1 || apt_packages+=(redis-server)
# The dashboard test launches /usr/bin/chromium, where Debian's package puts it.
if $need_browser && [[ ! -x /usr/bin/chromium ]]; then apt_packages+=(chromium); fi
if (( ${#apt_packages[@]} > 0 )); then
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "please install: ${apt_packages[*]}" >&2
    exit 1
  fi
  sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  echo "installing ${apt_packages[*]} (apt-get)"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${apt_packages[@]}" >/dev/null
fi

pnpm install --frozen-lockfile --prefer-offline --reporter=silent
