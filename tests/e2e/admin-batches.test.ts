import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI, { toFile } from 'openai';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLlmqStack, type Stack } from '@llmq/devkit';

const ADMIN_TOKEN = 'batches-admin-token-0123456789';
const ARTIFACTS = new URL('../../test-artifacts/', import.meta.url).pathname;
/** User input that would be markup if the page did not escape it. */
const HTML_NOTE = '<b id="injected">bold</b><script>document.title="pwned"</script>';
const HTML_CUSTOM_ID = '<img id="injected-line" src="x">';
const ISO_TIME = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/;

let stack: Stack;
let browser: BrowserContext;
let profile: string;
/** alpha's batch of three lines (made first) and beta's of one (made second, so newest). */
let alphaBatch: OpenAI.Batches.Batch;
let betaBatch: OpenAI.Batches.Batch;

const sdk = (tenant: 'alpha' | 'beta') =>
  new OpenAI({ baseURL: `${stack.apiUrl}/v1`, apiKey: stack.keys[tenant] ?? '', maxRetries: 0 });

const chatLine = (customId: string) => ({
  custom_id: customId,
  method: 'POST',
  url: '/v1/chat/completions',
  body: { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: `Say hi ${customId}` }], max_tokens: 10 },
});

/** A batch made through the SDK, once it has ended. */
async function finishedBatch(client: OpenAI, customIds: string[], metadata: Record<string, string>) {
  const content = customIds.map((id) => JSON.stringify(chatLine(id))).join('\n');
  const file = await client.files.create({
    file: await toFile(Buffer.from(`${content}\n`), 'input.jsonl'),
    purpose: 'batch',
  });
  const created = await client.batches.create({
    input_file_id: file.id,
    endpoint: '/v1/chat/completions',
    completion_window: '24h',
    metadata,
  });
  const deadline = Date.now() + 60_000;
  for (;;) {
    const batch = await client.batches.retrieve(created.id);
    if (batch.status === 'completed') return batch;
    if (Date.now() > deadline) throw new Error(`batch still ${batch.status}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

beforeAll(async () => {
  profile = await mkdtemp(join(tmpdir(), 'llmq-chromium-'));
  [stack, browser] = await Promise.all([
    startLlmqStack({
      workers: 1,
      apiEnv: { LLMQ_ADMIN_TOKEN: ADMIN_TOKEN },
      config: 'batching:\n  batch_api_lines: run\n',
    }),
    chromium.launchPersistentContext(profile, {
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
      viewport: { width: 1400, height: 900 },
    }),
  ]);
  alphaBatch = await finishedBatch(sdk('alpha'), ['first', HTML_CUSTOM_ID, 'third'], { note: HTML_NOTE });
  betaBatch = await finishedBatch(sdk('beta'), ['only'], { owner: 'beta-team' });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
  await rm(profile, { recursive: true, force: true });
}, 120_000);

async function logIn(page: Page) {
  await page.goto(`${stack.apiUrl}/admin/login`);
  await page.fill('#token', ADMIN_TOKEN);
  await Promise.all([page.waitForURL('**/admin/queues'), page.click('button[type=submit]')]);
}

/** The text of the batch list's row of `id`. */
const rowText = (page: Page, id: string) => page.locator('tr', { has: page.locator(`a:text-is("${id}")`) }).innerText();

describe('the batches pages in a real browser', () => {
  it('asks for the login first', async () => {
    const page = await browser.newPage();
    await page.goto(`${stack.apiUrl}/admin/batches`);
    expect(new URL(page.url()).pathname).toBe('/admin/login');
    const answer = await fetch(`${stack.apiUrl}/admin/batches`, { headers: { accept: 'application/json' } });
    expect(answer.status).toBe(401);
    await page.close();
  });

  it("lists every tenant's batches newest first, opens one, and follows a line to its job on the board", async () => {
    const page = await browser.newPage();
    const dialogs: string[] = [];
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    await logIn(page);

    // The board's menu leads to the batches.
    await page.getByText('llm-jobs').first().waitFor();
    await page.locator('header li').last().getByRole('button').click();
    await Promise.all([page.waitForURL('**/admin/batches'), page.getByText('Batches').click()]);

    const ids = await page.locator('tbody td.id a').allInnerTexts();
    expect(ids).toEqual([betaBatch.id, alphaBatch.id]);
    const alphaRow = await rowText(page, alphaBatch.id);
    expect(alphaRow).toContain('alpha');
    expect(alphaRow).toContain('completed');
    expect(alphaRow).toContain('/v1/chat/completions');
    expect(alphaRow).toContain('3 total · 3 completed · 0 failed');
    expect(alphaRow.match(new RegExp(ISO_TIME, 'g'))).toHaveLength(2);
    expect(await rowText(page, betaBatch.id)).toContain('1 total · 1 completed · 0 failed');
    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'admin-batches.png'), fullPage: true });

    // A page of one: the newest, then a link to the older one.
    await page.goto(`${stack.apiUrl}/admin/batches?limit=1`);
    expect(await page.locator('tbody td.id a').allInnerTexts()).toEqual([betaBatch.id]);
    await Promise.all([page.waitForURL(/after=/), page.getByRole('link', { name: 'Older batches' }).click()]);
    expect(await page.locator('tbody td.id a').allInnerTexts()).toEqual([alphaBatch.id]);
    expect(await page.getByRole('link', { name: 'Older batches' }).count()).toBe(0);

    // The batch's own page: its fields, its metadata shown as text, its lines with their jobs.
    await page.getByRole('link', { name: alphaBatch.id }).click();
    await page.waitForURL(`**/admin/batches/alpha/${alphaBatch.id}`);
    const field = (name: string) => page.locator(`td[data-field="${name}"]`).innerText();
    expect(await field('tenant')).toBe('alpha');
    expect(await field('status')).toBe('completed');
    expect(await field('input_file_id')).toBe(alphaBatch.input_file_id);
    expect(await field('output_file_id')).toBe(alphaBatch.output_file_id);
    expect(await field('created_at')).toMatch(ISO_TIME);
    expect(await field('completed_at')).toMatch(ISO_TIME);
    expect(JSON.parse(await field('request_counts'))).toEqual({ total: 3, completed: 3, failed: 0 });
    expect(JSON.parse(await field('metadata'))).toEqual({ note: HTML_NOTE });
    const lines = page.locator('table.lines tbody tr');
    expect(await lines.count()).toBe(3);
    expect(await lines.nth(1).innerText()).toContain(HTML_CUSTOM_ID);
    expect(await lines.nth(0).innerText()).toContain('succeeded');
    await page.screenshot({ path: join(ARTIFACTS, 'admin-batch.png'), fullPage: true });

    const jobLink = lines.nth(0).locator('a');
    const jobId = await jobLink.innerText();
    await jobLink.click();
    await page.waitForURL(`**/admin/queues/queue/llm-jobs/${jobId}`);
    await page.getByText('succeeded · chat · openai/gpt-4o-mini').first().waitFor();
    expect(dialogs).toEqual([]);
    await page.close();
  }, 60_000);

  it('shows HTML in user input as text: nothing of it becomes markup or runs', async () => {
    const page = await browser.newPage();
    await logIn(page);
    const source = await (await page.goto(`${stack.apiUrl}/admin/batches/alpha/${alphaBatch.id}`))?.text();
    for (const markup of ['<b id=', '<script>document', '<img id=']) expect(source).not.toContain(markup);
    // The metadata is JSON (its quotes backslashed), then escaped; the custom_id is escaped as it is.
    expect(source).toContain('&#60;b id=\\&#34;injected\\&#34;&#62;bold&#60;/b&#62;&#60;script&#62;');
    expect(source).toContain('&#60;img id=&#34;injected-line&#34; src=&#34;x&#34;&#62;');
    expect(await page.locator('#injected, #injected-line').count()).toBe(0);
    expect(await page.locator('main script').count()).toBe(0);
    expect(await page.title()).toBe(`llmq admin: ${alphaBatch.id}`);
    // What a person reads is the text as it was sent.
    expect(JSON.parse(await page.locator('td[data-field="metadata"]').innerText())).toEqual({ note: HTML_NOTE });
    expect(await page.locator('table.lines tbody tr').nth(1).locator('td').nth(1).innerText()).toBe(HTML_CUSTOM_ID);
    // Another tenant's path does not open alpha's batch.
    const elsewhere = await page.goto(`${stack.apiUrl}/admin/batches/beta/${alphaBatch.id}`);
    expect(elsewhere?.status()).toBe(404);
    await page.close();
  });
});
