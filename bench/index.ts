/**
 * `pnpm bench`: every benchmark in turn, each figure next to its baseline from the same run,
 * written to BENCHMARKS.md with the machine, the date and the command.
 */
import { writeFile } from 'node:fs/promises';
import { accountsBenchmark } from './accounts.bench.js';
import { clusterBenchmark } from './cluster.bench.js';
import { concurrencyBenchmark } from './concurrency.bench.js';
import { drainBenchmark } from './drain.bench.js';
import { fairnessBenchmark } from './fairness.bench.js';
import { hostileBenchmark } from './hostile.bench.js';
import { ingestBenchmark } from './ingest.bench.js';
import { jobCostBenchmark } from './job-cost.bench.js';
import { latencyBenchmark } from './latency.bench.js';
import { limiterBenchmark } from './limiter.bench.js';
import { openAiCompatBenchmark } from './openai-compat.bench.js';
import { pipelineBenchmark } from './pipeline.bench.js';
import { machine, printRows, type BenchRow } from './bench-kit.js';
import { misses } from './misses.js';

const suites: Array<[string, () => Promise<BenchRow[]>]> = [
  ['pipeline', pipelineBenchmark],
  ['ingest', ingestBenchmark],
  ['latency', latencyBenchmark],
  ['concurrency', concurrencyBenchmark],
  ['limiter', limiterBenchmark],
  ['fairness', fairnessBenchmark],
  ['accounts', accountsBenchmark],
  ['drain', drainBenchmark],
  ['hostile', hostileBenchmark],
  ['openai', openAiCompatBenchmark],
  ['cost', jobCostBenchmark],
  ['cluster', clusterBenchmark],
];
const only = process.env.BENCH_SUITES?.split(',');

const rows: BenchRow[] = [];
console.log(`machine: ${machine()}`);
for (const [name, run] of suites) {
  if (only && !only.includes(name)) continue;
  console.log(`== ${name}`);
  const suiteRows = await run();
  printRows(suiteRows);
  rows.push(...suiteRows);
}

const cell = (text: string) => text.replaceAll('|', '\\|');
const table = [
  '| benchmark | figure | baseline (same run) | ratio | target | met |',
  '| --- | --- | --- | --- | --- | --- |',
  ...rows.map(
    (row) =>
      `| ${cell(row.benchmark)} | ${cell(row.figure)} | ${cell(row.baseline)} | ${cell(row.ratio)} | ${cell(row.target)} | ${
        row.met === undefined ? '' : row.met ? 'yes' : '**no**'
      } |`,
  ),
];
const missed = rows.filter((row) => row.met === false);
const document = [
  '# Benchmarks',
  '',
  `Machine: ${machine()}, Linux. Date: ${new Date().toISOString().slice(0, 10)}. Command: \`pnpm bench\`${
    only ? ` (BENCH_SUITES=${only.join(',')})` : ''
  }.`,
  'Every process (Redis, API, workers, simulator, load generator) runs on this one machine, so they share its two cores.',
  '',
  ...table,
  '',
  ...(missed.length > 0
    ? ['## Targets missed', '', ...missed.map((row) => `- **${row.benchmark}**: ${misses(row)}`), '']
    : []),
].join('\n');
await writeFile(new URL('../BENCHMARKS.md', import.meta.url), `${document}\n`);
console.log('wrote BENCHMARKS.md');
process.exit(0);
