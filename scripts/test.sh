#!/usr/bin/env bash
# `npm test`: installs what is missing, then format check, lint, typecheck/build and every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-tools.sh
echo "== format"; pnpm exec prettier --check . --log-level warn
echo "== lint"; pnpm exec eslint . --max-warnings 0
echo "== typecheck and build"; pnpm build
echo "== tests"; pnpm exec vitest run
