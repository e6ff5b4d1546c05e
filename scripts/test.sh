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
# The end-to-end tests run the apps as just built (no TypeScript compile in every process start).
export LLMQ_APPS=dist
mkdir -p test-artifacts
status=0
pnpm exec vitest run --reporter=default --reporter=json --outputFile.json=test-artifacts/vitest.json || status=$?
echo "== chaos (workers and Redis killed, receiver down, provider storm)"
pnpm exec vitest run --config vitest.chaos.config.ts --reporter=default --reporter=json \
  --outputFile.json=test-artifacts/vitest-chaos.json || status=$?
node -e '
  const reports = ["./test-artifacts/vitest.json", "./test-artifacts/vitest-chaos.json"].map((file) => {
    try { return require(file); } catch { return { numPassedTests: 0, numFailedTests: 1, testResults: [{ name: file, assertionResults: [{ status: "failed", fullName: "(no report: the run did not finish)" }] }] }; }
  });
  const passed = reports.reduce((sum, report) => sum + report.numPassedTests, 0);
  const failed = reports.reduce((sum, report) => sum + report.numFailedTests, 0);
  // The closing lines name what failed, so a red run says why without scrolling.
  for (const report of reports) {
    for (const file of report.testResults ?? []) {
      for (const test of file.assertionResults ?? []) {
        if (test.status === "failed") console.log(`FAILED ${file.name.replace(process.cwd() + "/", "")} > ${test.fullName}`);
      }
    }
  }
  console.log(`tests: ${passed} passed, ${failed} failed`);
' || true
exit $status
