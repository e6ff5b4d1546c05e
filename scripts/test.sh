#!/usr/bin/env bash
# `npm test`: installs what is missing, then format check, lint, typecheck/build and every test.
set -euo pipefail
cd "$(dirname "$0")/.."
# --browser: the dashboard test drives Debian's chromium (playwright-core downloads no browser).
bash scripts/ensure-tools.sh --browser
echo "== format"; pnpm exec prettier --check . --log-level warn
echo "== lint"; pnpm exec eslint . --max-warnings 0
echo "== typecheck"; pnpm typecheck
echo "== build"; pnpm build
echo "== tests"
mkdir -p test-artifacts
status=0
pnpm exec vitest run --reporter=default --reporter=json --outputFile.json=test-artifacts/vitest.json || status=$?
node -e '
  const report = require("./test-artifacts/vitest.json");
  console.log(`tests: ${report.numPassedTests} passed, ${report.numFailedTests} failed`);
' || true
exit $status
