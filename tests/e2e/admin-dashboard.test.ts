import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLlmqStack, type Stack } from '@llmq/devkit';
import { llmqClient } from '../support/llmq-client.js';

const ADMIN_TOKEN = 'dashboard-admin-token-0123456789';
const ARTIFACTS = new URL('../../test-artifacts/', import.meta.url).pathname;

let stack: Stack;
let browser: BrowserContext;
let profile: string;
let jobId: string;

beforeAll(async () => {
  profile = await mkdtemp(join(tmpdir(), 'llmq-chromium-'));
  [stack, browser] = await Promise.all([
    startLlmqStack({ apiEnv: { LLMQ_ADMIN_TOKEN: ADMIN_TOKEN } }),
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
  const client = llmqClient(stack);
  const { body } = await client.submit({
    type: 'chat',
    request: { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'for the dashboard' }] },
  });
  jobId = String(body.id);
  expect((await client.waitForEnd(jobId)).status).toBe('succeeded');
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
  await rm(profile, { recursive: true, force: true });
});

async function logIn(page: Page, token: string) {
  await page.goto(`${stack.apiUrl}/admin/queues`);
  expect(new URL(page.url()).pathname).toBe('/admin/login');
  await page.fill('#token', token);
  const [answer] = await Promise.all([page.waitForResponse('**/admin/login'), page.click('button[type=submit]')]);
  return answer;
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

  it('logs in through the form and shows both queues and the finished job', async () => {
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

    await page.goto(`${stack.apiUrl}/admin/queues/queue/llm-jobs?status=completed`);
    await page.getByText(jobId).first().waitFor();
    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'bull-board.png'), fullPage: true });
    // Only the third-party font stylesheet may be blocked by the CSP; the UI itself runs under it.
    expect(blocked.filter((text) => !text.includes('fonts.googleapis.com'))).toEqual([]);
    await page.close();
  });
});
