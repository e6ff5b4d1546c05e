#!/usr/bin/env bash
# `npm start`: installs what is missing, then runs redis (unless REDIS_URL is set), the simulator
# (unless a provider key is set), the API and a worker, in the foreground.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-tools.sh
exec pnpm --silent dev
