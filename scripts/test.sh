#!/usr/bin/env bash
# `npm test`: installs what is missing, then format check, lint, typecheck/build and every test.
set -euo pipefail
cd "$(dirname "$0")/.."
# --browser: the dashboard test drives Debian's chromium (playwright-core downloads no browser).
bash scripts/ensure-tools.sh --browser
# The four checks read the sources and nothing another writes (the build writes dist/ and its
# .tsbuildinfo, which the others skip); each runs on one core, so they run side by side, and each
# one's output is printed in turn.
checks=$(mktemp -d)
check() {
  local name=$1
  shift
  "$@" >"$checks/$name.log" 2>&1 && echo 0 >"$checks/$name.status" || echo $? >"$checks/$name.status"
}
check format pnpm exec prettier --check . --log-level warn &
check lint pnpm exec eslint . --max-warnings 0 &
check typecheck pnpm typecheck &
check build pnpm build &
wait
failed_check=0
for name in format lint typecheck build; do
  echo "== $name"
  cat "$checks/$name.log"
  [[ "$(cat "$checks/$name.status")" == 0 ]] || failed_check=1
done
rm -rf "$checks"
(( failed_check == 0 )) || exit 1
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
