/**
 * `pnpm bench:accounts`: several provider accounts.
 * - cache: the share of prompt tokens the provider served from its prompt cache, with prefix
 *   stickiness on against off in the same run: 3 accounts of 3 orgs, 30 long shared contexts, 10
 *   questions each, sent 16 at a time in shuffled order;
 * - capacity: calls started in 30 s on a model served by two orgs at N rpm each, against one
 *   org's two keys at N rpm, with the provider 429s of both.
 */
import { startLlmqStack, type Stack } from '@llmq/devkit';
import { inParallel, runIfMain, submitJob, waitFor, type BenchRow } from './bench-kit.js';

interface AccountStats {
  requests: number;
  rateLimited: number;
  promptTokens: number;
  cachedPromptTokens: number;
}

async function simulatorAccounts(stack: Stack): Promise<Record<string, AccountStats>> {
  const stats = (await (await fetch(`${stack.simulatorUrl}/_sim/stats`)).json()) as {
    accounts: Record<string, AccountStats>;
  };
  return stats.accounts;
}

const chat = (model: string, content: string) => ({
  type: 'chat',
  request: { model, messages: [{ role: 'user', content }], max_tokens: 5 },
});

async function endOf(
  stack: Stack,
  id: string,
): Promise<{ status: string; attempt_log: Array<{ started_at: number }> }> {
  for (;;) {
    const response = await fetch(`${stack.apiUrl}/v1/jobs/${id}?wait=30`, {
      headers: { authorization: `Bearer ${stack.keys.alpha ?? ''}` },
    });
    const job = (await response.json()) as { status: string; attempt_log: Array<{ started_at: number }> };
    if (['succeeded', 'failed', 'canceled'].includes(job.status)) return job;
  }
}

const CONTEXTS = 30;
const QUESTIONS = 10;

/** The cached share of prompt tokens over the workload, with stickiness as given. */
async function cachedShare(sticky: boolean): Promise<{ share: number; jobs: number }> {
  const keys = ['sk-c1', 'sk-c2', 'sk-c3'];
  const stack = await startLlmqStack({
    workers: 2,
    workerEnv: { WORKER_CONCURRENCY: '32', KEY_C1: 'sk-c1', KEY_C2: 'sk-c2', KEY_C3: 'sk-c3' },
    simulatorEnv: {
      SIM_ACCOUNTS: JSON.stringify(keys.map((key, index) => ({ key, org: `org-${index}` }))),
      SIM_LATENCY_MS: '20',
    },
    config: `account_stickiness: ${sticky}
accounts:
  openai:
    - { name: c1, api_key_env: KEY_C1 }
    - { name: c2, api_key_env: KEY_C2 }
    - { name: c3, api_key_env: KEY_C3 }
`,
  });
  try {
    const work = Array.from({ length: CONTEXTS * QUESTIONS }, (_, index) => ({
      context: index % CONTEXTS,
      question: Math.floor(index / CONTEXTS),
    }));
    // A fixed shuffle: both runs send the same jobs in the same order.
    let seed = 7;
    for (let index = work.length - 1; index > 0; index--) {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      const other = seed % (index + 1);
      [work[index], work[other]] = [work[other] as (typeof work)[number], work[index] as (typeof work)[number]];
    }
    await inParallel(work.length, 16, async (index) => {
      const { context, question } = work[index] as (typeof work)[number];
      const body = `Context ${context}. ${`Shared background paragraph number ${context} for the assistant to read. `.repeat(150)}\nQuestion ${question}?`;
      const id = await submitJob(stack.apiUrl, stack.keys.alpha ?? '', chat('openai/gpt-4o-mini', body));
      const job = await endOf(stack, id);
      if (job.status !== 'succeeded') throw new Error(`job ${id} ended ${job.status}`);
    });
    const accounts = await simulatorAccounts(stack);
    const totals = keys.reduce(
      (sum, key) => ({
        prompt: sum.prompt + (accounts[key]?.promptTokens ?? 0),
        cached: sum.cached + (accounts[key]?.cachedPromptTokens ?? 0),
      }),
      { prompt: 0, cached: 0 },
    );
    return { share: totals.cached / totals.prompt, jobs: work.length };
  } finally {
    await stack.stop();
  }
}

const RPM = 600;
// Measured once every backlog has formed and the limiter runs steady: from 20 s to 50 s.
const WINDOW_START_MS = 20_000;
const WINDOW_MS = 30_000;

/** Calls started in the window on a model served by two orgs and on one served by two keys of one org. */
async function capacity(): Promise<BenchRow> {
  const stack = await startLlmqStack({
    workers: 2,
    workerEnv: { WORKER_CONCURRENCY: '32', KEY_X: 'sk-x', KEY_Y: 'sk-y', KEY_Z1: 'sk-z1', KEY_Z2: 'sk-z2' },
    simulatorEnv: {
      SIM_ACCOUNTS: JSON.stringify([
        { key: 'sk-x', org: 'org-x', rpm: RPM },
        { key: 'sk-y', org: 'org-y', rpm: RPM },
        { key: 'sk-z1', org: 'org-z', rpm: RPM },
        { key: 'sk-z2', org: 'org-z', rpm: RPM },
      ]),
      SIM_LATENCY_MS: '20',
    },
    config: `accounts:
  openai:
    - { name: x, org: org-x, api_key_env: KEY_X, models: [two-orgs], limits: { two-orgs: { rpm: ${RPM} } } }
    - { name: y, org: org-y, api_key_env: KEY_Y, models: [two-orgs], limits: { two-orgs: { rpm: ${RPM} } } }
    - { name: z1, org: org-z, api_key_env: KEY_Z1, models: [one-org], limits: { one-org: { rpm: ${RPM} } } }
    - { name: z2, org: org-z, api_key_env: KEY_Z2, models: [one-org] }
`,
  });
  try {
    // Enough that the two-org model's backlog outlasts the window.
    const perModel = Math.ceil((2 * RPM * (WINDOW_START_MS + WINDOW_MS)) / 60_000 + 200);
    const ids: Record<string, string[]> = { 'two-orgs': [], 'one-org': [] };
    const sent = Date.now();
    await Promise.all(
      Object.keys(ids).map((model) =>
        inParallel(perModel, 8, async (index) => {
          ids[model]?.push(
            await submitJob(stack.apiUrl, stack.keys.alpha ?? '', chat(`openai/${model}`, `${model} ${index}`)),
          );
        }),
      ),
    );
    const from = sent + WINDOW_START_MS;
    const to = from + WINDOW_MS;
    await waitFor(async () => Date.now() >= to + 1_000, WINDOW_START_MS + WINDOW_MS * 2, 500);
    const started: Record<string, number> = {};
    for (const [model, list] of Object.entries(ids)) {
      let count = 0;
      for (let start = 0; start < list.length; start += 50) {
        const jobs = await Promise.all(
          list.slice(start, start + 50).map(async (id) => {
            const response = await fetch(`${stack.apiUrl}/v1/jobs/${id}`, {
              headers: { authorization: `Bearer ${stack.keys.alpha ?? ''}` },
            });
            return (await response.json()) as { attempt_log: Array<{ started_at: number }> };
          }),
        );
        count += jobs
          .flatMap((job) => job.attempt_log)
          .filter((call) => call.started_at * 1000 >= from && call.started_at * 1000 < to).length;
      }
      started[model] = count;
    }
    const accounts = await simulatorAccounts(stack);
    const rateLimited = Object.values(accounts).reduce((sum, account) => sum + account.rateLimited, 0);
    const two = started['two-orgs'] ?? 0;
    const one = started['one-org'] ?? 0;
    return {
      benchmark: `provider accounts: calls started from ${WINDOW_START_MS / 1000} s to ${(WINDOW_START_MS + WINDOW_MS) / 1000} s on a model served by two orgs at ${RPM} rpm each (baseline: two keys of one org at ${RPM} rpm)`,
      figure: `${two} calls`,
      baseline: `${one} calls`,
      ratio: (two / one).toFixed(2),
      target: '2 orgs ~2x, zero provider 429s',
      met: two / one >= 1.8 && rateLimited === 0,
      note: `provider 429s over the run: ${rateLimited}; one org's limit over the window: ${(RPM / 60) * (WINDOW_MS / 1000)} calls`,
    };
  } finally {
    await stack.stop();
  }
}

export async function accountsBenchmark(): Promise<BenchRow[]> {
  const only = process.env.BENCH_ONLY;
  const rows: BenchRow[] = [];
  if (!only || only === 'cache') {
    const on = await cachedShare(true);
    const off = await cachedShare(false);
    rows.push({
      benchmark: `provider accounts: share of prompt tokens served from the provider's prompt cache, 3 accounts, ${CONTEXTS} shared contexts x ${QUESTIONS} questions (${on.jobs} jobs), prefix stickiness on (baseline: off)`,
      figure: `${(on.share * 100).toFixed(1)}%`,
      baseline: `${(off.share * 100).toFixed(1)}%`,
      ratio: (on.share / off.share).toFixed(2),
      target: 'higher with stickiness',
      met: on.share > off.share,
    });
  }
  if (!only || only === 'capacity') rows.push(await capacity());
  return rows;
}

runIfMain(import.meta.url, accountsBenchmark);
