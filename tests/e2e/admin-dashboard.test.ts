import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLlmqStack, type Stack } from '@llmq/devkit';
import {
  startWebhookReceiver,
  type WebhookReceiver,
} from '../../packages/core/src/webhooks/__fixtures__/webhook-receiver.js';
import { llmqClient, type JobView } from '../support/llmq-client.js';
import { WEBHOOK_STACK_CONFIG } from './webhooks-support.js';

const ADMIN_TOKEN = 'dashboard-admin-token-0123456789';
const ARTIFACTS = new URL('../../test-artifacts/', import.meta.url).pathname;
/** Must never reach the board: a prompt, the webhook URL's query, provider keys. */
const PROMPT_SECRET = 'prompt-secret-5b1d';
const HOOK_SECRET = 'hook-query-secret-77aa';
const PROVIDER_KEYS = ['sk-simulator-key', 'sk-ant-simulator-key', 'gemini-simulator-key'];
const ISO_TIME = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/;
/** pretty-ms: `850ms`, `1.2s`, `2m 5s`. */
const DURATION = '\\d+(\\.\\d)?(ms|s|m \\d+(\\.\\d)?s)';
/** A field as the board's JSON viewer prints it (`key: "value"`, quoted or not). */
const field = (key: string, value: string) => new RegExp(`"?${key}"?:\\s*"${value}"`);

let stack: Stack;
let receiver: WebhookReceiver;
let browser: BrowserContext;
let profile: string;
/** The model each job asks for: the simulator answers the first, fails the second, hangs on the third. */
const MODELS = { succeeded: 'openai/gpt-4o-mini', failed: 'openai/dash-sick', canceled: 'openai/dash-hang' } as const;
const jobs = {} as Record<keyof typeof MODELS, JobView>;

type Client = ReturnType<typeof llmqClient>;

const submission = (model: string, doc: string, extra: Record<string, unknown> = {}) => ({
  type: 'chat',
  request: { model, messages: [{ role: 'user', content: `${PROMPT_SECRET} ${doc}` }], max_tokens: 20 },
  metadata: { doc },
  webhook: { url: `${receiver.url}/hooks/${doc}?token=${HOOK_SECRET}` },
  ...extra,
});

/** `read()` once `done` holds for it; throws after `timeoutMs` (expect.poll is for tests, this runs in beforeAll). */
async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`still not there after ${timeoutMs} ms: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The job once its end's webhook was delivered, as the API shows it. */
async function endedAndDelivered(client: Client, id: string): Promise<JobView> {
  await client.waitForEnd(id);
  const job = await until(
    async () => (await client.get(id)).body as unknown as JobView & { webhook?: { status: string } },
    (job) => job.webhook?.status === 'delivered',
  );
  return job;
}

async function runThreeJobs(client: Client) {
  await client.faults([
    { match: { model: 'dash-sick' }, fault: '500' },
    { match: { model: 'dash-hang' }, fault: 'hang' },
  ]);
  const submit = async (body: unknown) => String((await client.submit(body)).body.id);
  const [succeeded, failed, canceled] = await Promise.all([
    submit(submission(MODELS.succeeded, 'dash-ok')),
    submit(submission(MODELS.failed, 'dash-failed', { attempts: 2 })),
    submit(submission(MODELS.canceled, 'dash-canceled')),
  ]);
  await until(
    async () => (await client.stats()).hanging,
    (hanging) => hanging === 1,
  );
  expect((await client.cancel(canceled)).status).toBe(200);
  jobs.succeeded = await endedAndDelivered(client, succeeded);
  jobs.failed = await endedAndDelivered(client, failed);
  jobs.canceled = await endedAndDelivered(client, canceled);
  expect(jobs.succeeded.status).toBe('succeeded');
  expect(jobs.failed.status).toBe('failed');
  expect(jobs.failed.attempt_log).toHaveLength(2);
  expect(jobs.canceled.status).toBe('canceled');
}

beforeAll(async () => {
  profile = await mkdtemp(join(tmpdir(), 'llmq-chromium-'));
  receiver = await startWebhookReceiver({ host: '127.0.0.2' });
  [stack, browser] = await Promise.all([
    startLlmqStack({ config: WEBHOOK_STACK_CONFIG, apiEnv: { LLMQ_ADMIN_TOKEN: ADMIN_TOKEN } }),
    // Debian's chromium, a fresh profile, nothing running in the background.
    chromium.launchPersistentContext(profile, {
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-quic',
        '--no-first-run',
        '--disable-component-update',
        '--disable-sync',
      ],
      viewport: { width: 1400, height: 900 },
    }),
  ]);
  await runThreeJobs(llmqClient(stack));
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await Promise.all([stack?.stop(), receiver?.close()]);
  await rm(profile, { recursive: true, force: true });
});

async function logIn(page: Page, token: string) {
  await page.goto(`${stack.apiUrl}/admin/queues`);
  expect(new URL(page.url()).pathname).toBe('/admin/login');
  await page.fill('#token', token);
  const [answer] = await Promise.all([page.waitForResponse('**/admin/login'), page.click('button[type=submit]')]);
  return answer;
}

/** Everything a person reads on the job's page, once its title (llmq's status first) is shown. */
async function jobPageText(page: Page, job: JobView): Promise<string> {
  await page.goto(`${stack.apiUrl}/admin/queues/queue/llm-jobs/${job.id}`);
  await page.getByText(`${job.status} · chat ·`).first().waitFor();
  const data = page.getByRole('tab', { name: /data/i });
  if ((await data.count()) > 0) await data.first().click();
  await page
    .getByText(/attempts"?:/)
    .first()
    .waitFor();
  return page.locator('body').innerText();
}

function expectNoSecret(text: string) {
  for (const secret of [PROMPT_SECRET, HOOK_SECRET, ADMIN_TOKEN, ...PROVIDER_KEYS]) expect(text).not.toContain(secret);
  expect(text).not.toContain('/hooks/');
}

describe('the dashboard in a real browser', () => {
  it('refuses a wrong token: the form again, no cookie', async () => {
    const page = await browser.newPage();
    const answer = await logIn(page, 'not-the-token-at-all');
    expect(answer.status()).toBe(401);
    await expect.poll(() => page.textContent('[role=alert]')).toBe('That is not the admin token.');
    expect(await browser.cookies()).toEqual([]);
    await page.close();
  });

  it('shows each job as llmq tells it: status, models, attempts with timings, usage, cost, metadata, webhook, UTC times; no secret; no retry; then logs out', async () => {
    const page = await browser.newPage();
    const blocked: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') blocked.push(message.text());
    });
    const answer = await logIn(page, ADMIN_TOKEN);
    expect(answer.status()).toBe(303);
    const [cookie] = await browser.cookies();
    expect(cookie).toMatchObject({ name: 'llmq_admin', httpOnly: true, sameSite: 'Strict', path: '/admin' });
    await page.waitForURL('**/admin/queues');
    await page.getByText('llm-jobs').first().waitFor();
    await page.getByText('webhooks').first().waitFor();

    // The queue's list: every job titled with llmq's status, none offered a retry or a removal.
    await page.goto(`${stack.apiUrl}/admin/queues/queue/llm-jobs`);
    for (const [status, model] of Object.entries(MODELS))
      await page.getByText(`${status} · chat · ${model}`).first().waitFor();
    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'bull-board.png'), fullPage: true });
    const list = await page.locator('body').innerText();
    expect(list).not.toMatch(/skipped/);
    expect(await page.getByRole('button', { name: /retry|clean|remove|promote|duplicate/i }).count()).toBe(0);
    expectNoSecret(list);

    const succeeded = await jobPageText(page, jobs.succeeded);
    expect(succeeded).toMatch(field('status', 'succeeded'));
    expect(succeeded).toMatch(field('model', 'openai/gpt-4o-mini'));
    expect(succeeded).toMatch(field('answered_by', 'openai/gpt-4o-mini'));
    expect(succeeded).toMatch(/input_tokens"?:\s*[1-9]\d*/);
    expect(succeeded).toMatch(/output_tokens"?:\s*[1-9]\d*/);
    expect(succeeded).toMatch(/cost_usd"?:\s*0\.\d*[1-9]/);
    expect(succeeded).toMatch(field('doc', 'dash-ok'));
    expect(succeeded).toMatch(field('created', ISO_TIME.source));
    expect(succeeded).toMatch(field('finished', ISO_TIME.source));
    expect(succeeded).toMatch(field('took', DURATION));
    expect(succeeded).toMatch(field('deadlineAt', ISO_TIME.source));
    expect(succeeded).toMatch(
      new RegExp(`"#1 openai/gpt-4o-mini succeeded, started ${ISO_TIME.source}, took ${DURATION}"`),
    );
    expect(succeeded).toMatch(field('to', receiver.url));
    expect(succeeded).toMatch(/webhook"?:\s*\{\s*to"?:\s*"[^"]+",\s*status"?:\s*"delivered"/);
    expect(succeeded).toMatch(new RegExp(`"#1 delivered \\(HTTP 204\\), at ${ISO_TIME.source}, took ${DURATION}"`));
    expect(succeeded).not.toMatch(/\d{13}/);
    expectNoSecret(succeeded);

    const failed = await jobPageText(page, jobs.failed);
    expect(failed).toMatch(field('status', 'failed'));
    expect(failed).toMatch(field('model', 'openai/dash-sick'));
    expect(failed).toMatch(/answered_by"?:\s*null/);
    expect(failed).toMatch(field('error', 'provider_error, openai, HTTP 500: [^"]+'));
    for (const attempt of [1, 2])
      expect(failed).toMatch(
        new RegExp(
          `"#${attempt} openai/dash-sick failed, started ${ISO_TIME.source}, took ${DURATION}: provider_error, openai, HTTP 500: `,
        ),
      );
    expect(failed).toMatch(field('doc', 'dash-failed'));
    expect(failed).toMatch(/webhook"?:\s*\{\s*to"?:\s*"[^"]+",\s*status"?:\s*"delivered"/);
    expect(failed).not.toMatch(/\d{13}/);
    expectNoSecret(failed);

    const canceled = await jobPageText(page, jobs.canceled);
    await page.screenshot({ path: join(ARTIFACTS, 'bull-board-canceled-job.png'), fullPage: true });
    // BullMQ's Completed state (where a job canceled while running sits) is neutral, not success green.
    // (A string: the tests compile without the DOM's types.)
    const completedColour = await page.evaluate(
      "getComputedStyle(document.documentElement).getPropertyValue('--status-completed').trim()",
    );
    expect(completedColour).toBe('#64748b');
    expect(canceled).toMatch(field('status', 'canceled'));
    expect(canceled).toMatch(field('model', 'openai/dash-hang'));
    expect(canceled).toMatch(field('error', 'canceled: canceled by the client'));
    expect(canceled).toMatch(field('doc', 'dash-canceled'));
    expect(canceled).toMatch(/webhook"?:\s*\{\s*to"?:\s*"[^"]+",\s*status"?:\s*"delivered"/);
    expect(canceled).not.toContain('skipped');
    expectNoSecret(canceled);
    expect(await page.getByRole('button', { name: /retry|clean|remove|promote|duplicate/i }).count()).toBe(0);

    // Only the third-party font stylesheet may be blocked by the CSP; the UI itself runs under it.
    expect(blocked.filter((text) => !text.includes('fonts.googleapis.com'))).toEqual([]);

    // Logging out from the board's menu ends the session: the board asks for the token again.
    await page.goto(`${stack.apiUrl}/admin/queues`);
    await page.getByText('llm-jobs').first().waitFor();
    await page.locator('header li').last().getByRole('button').click();
    await Promise.all([page.waitForURL('**/admin/login'), page.getByText('Log out').click()]);
    expect(await browser.cookies()).toEqual([]);
    await page.goto(`${stack.apiUrl}/admin/queues`);
    expect(new URL(page.url()).pathname).toBe('/admin/login');
    await page.locator('#token').waitFor();
    await page.close();
  }, 120_000);
});
