import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import OpenAI, { toFile } from 'openai';
import { startLlmqStack, type Stack } from '@llmq/devkit';
import { MAX_FILE_BYTES, MAX_FILE_LINES } from '../../apps/api/src/openai-compat/batches/batch-file-upload.js';
import { checkedOpenAi } from '../support/checked-openai.js';

let stack: Stack;
let alpha: OpenAI;
let beta: OpenAI;
const problems: string[] = [];

beforeAll(async () => {
  stack = await startLlmqStack({ workers: 1 });
  alpha = checkedOpenAi(stack, 'alpha', problems).client;
  beta = checkedOpenAi(stack, 'beta', problems).client;
}, 60_000);
afterAll(async () => {
  await stack?.stop();
});
afterEach(() => {
  // Every answer the SDK received is one /openapi.json describes.
  expect(problems).toEqual([]);
  problems.length = 0;
});

const requestLine = (customId: string, content = 'Say hi') =>
  JSON.stringify({
    custom_id: customId,
    method: 'POST',
    url: '/v1/chat/completions',
    body: { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content }] },
  });

const jsonl = (lines: string[]) => `${lines.join('\n')}\n`;

/** `count` lines whose total size is exactly `bytes` (padding the last request's message). */
function fileOfSize(count: number, bytes: number): Buffer {
  const lines = Array.from({ length: count - 1 }, (_, index) => requestLine(`request-${index}`));
  const head = jsonl(lines);
  const last = requestLine(`request-${count - 1}`, '');
  const padding = bytes - Buffer.byteLength(head) - Buffer.byteLength(last) - 1;
  if (padding < 0) throw new Error(`${count} lines do not fit in ${bytes} bytes`);
  const content = `${head}${requestLine(`request-${count - 1}`, 'x'.repeat(padding))}\n`;
  return Buffer.from(content);
}

describe('Files API through the OpenAI SDK', () => {
  it('uploads a JSONL file, reads it back byte for byte, lists and deletes it', async () => {
    const content = jsonl([requestLine('first'), requestLine('second')]);
    const file = await alpha.files.create({
      file: await toFile(Buffer.from(content), 'requests.jsonl'),
      purpose: 'batch',
    });
    expect(file).toMatchObject({
      object: 'file',
      purpose: 'batch',
      filename: 'requests.jsonl',
      bytes: Buffer.byteLength(content),
      status: 'processed',
    });
    expect(file.id).toMatch(/^file-/);
    expect(file.expires_at).toBeGreaterThan(file.created_at);

    expect(await alpha.files.retrieve(file.id)).toEqual(file);
    expect(await (await alpha.files.content(file.id)).text()).toBe(content);
    const listed = await alpha.files.list();
    expect(listed.data.map((each) => each.id)).toContain(file.id);

    expect(await alpha.files.delete(file.id)).toEqual({ id: file.id, object: 'file', deleted: true });
    await expect(alpha.files.retrieve(file.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(alpha.files.content(file.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(alpha.files.delete(file.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    expect((await alpha.files.list()).data.map((each) => each.id)).not.toContain(file.id);
  });

  it("answers another tenant's file id exactly like a missing one", async () => {
    const file = await alpha.files.create({
      file: await toFile(Buffer.from(jsonl([requestLine('a')])), 'a.jsonl'),
      purpose: 'batch',
    });
    const missing = 'file-000000000000' + '0'.repeat(16);
    for (const id of [file.id, missing, 'not-a-file-id']) {
      const error = await beta.files.retrieve(id).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(OpenAI.NotFoundError);
      // OpenAI's error body: the SDK reads its type and code.
      expect(error).toMatchObject({ status: 404, type: 'invalid_request_error', code: 'not_found' });
      await expect(beta.files.content(id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
      await expect(beta.files.delete(id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    }
    expect((await beta.files.list()).data.map((each) => each.id)).not.toContain(file.id);
    // Still there for its owner.
    expect((await alpha.files.retrieve(file.id)).id).toBe(file.id);
  });

  it('pages through the list with the after cursor, newest first', async () => {
    const created = [];
    for (const name of ['one', 'two', 'three']) {
      created.push(
        await beta.files.create({
          file: await toFile(Buffer.from(jsonl([requestLine(name)])), `${name}.jsonl`),
          purpose: 'batch',
        }),
      );
    }
    const first = await beta.files.list({ limit: 2 });
    expect(first.data.map((file) => file.filename)).toEqual(['three.jsonl', 'two.jsonl']);
    expect(first.has_more).toBe(true);
    const all = [];
    for await (const file of beta.files.list({ limit: 2 })) all.push(file.id);
    expect(all.slice(0, 3)).toEqual(created.map((file) => file.id).reverse());
    const ascending = await beta.files.list({ order: 'asc', limit: 3 });
    expect(ascending.data.map((file) => file.id)).toEqual(created.map((file) => file.id));
  });

  it('refuses another purpose, an empty file and a body that is not multipart, naming the problem', async () => {
    const content = await toFile(Buffer.from(jsonl([requestLine('a')])), 'a.jsonl');
    const wrongPurpose = await alpha.files
      .create({ file: content, purpose: 'fine-tune' })
      .catch((caught: unknown) => caught);
    expect(wrongPurpose).toBeInstanceOf(OpenAI.BadRequestError);
    expect((wrongPurpose as Error).message).toContain('purpose');
    expect(wrongPurpose).toMatchObject({ type: 'invalid_request_error', code: 'invalid_request' });

    const empty = await alpha.files
      .create({ file: await toFile(Buffer.from('\n \n'), 'empty.jsonl'), purpose: 'batch' })
      .catch((caught: unknown) => caught);
    expect(empty).toBeInstanceOf(OpenAI.BadRequestError);
    expect((empty as Error).message).toContain('no requests');

    const notMultipart = await alpha.post('/files', { body: { purpose: 'batch' } }).catch((caught: unknown) => caught);
    expect(notMultipart).toBeInstanceOf(OpenAI.APIError);
    expect((notMultipart as InstanceType<typeof OpenAI.APIError>).status).toBe(415);
    expect(notMultipart).toMatchObject({ type: 'invalid_request_error' });
  });

  it(`accepts a file at the bounds (${MAX_FILE_LINES} requests in ${MAX_FILE_BYTES} bytes) and refuses one past either`, async () => {
    const largest = fileOfSize(MAX_FILE_LINES, MAX_FILE_BYTES);
    const file = await alpha.files.create({ file: await toFile(largest, 'largest.jsonl'), purpose: 'batch' });
    expect(file.bytes).toBe(MAX_FILE_BYTES);
    expect(file).toMatchObject({ lines: MAX_FILE_LINES });
    const read = Buffer.from(await (await alpha.files.content(file.id)).arrayBuffer());
    expect(read.equals(largest)).toBe(true);
    await alpha.files.delete(file.id);

    const tooLarge = await alpha.files
      .create({ file: await toFile(Buffer.concat([largest, Buffer.from('\n')]), 'large.jsonl'), purpose: 'batch' })
      .catch((caught: unknown) => caught);
    expect(tooLarge).toBeInstanceOf(OpenAI.APIError);
    expect((tooLarge as InstanceType<typeof OpenAI.APIError>).status).toBe(413);
    expect(tooLarge).toMatchObject({ type: 'invalid_request_error', code: 'payload_too_large' });

    const tooMany = await alpha.files
      .create({ file: await toFile(fileOfSize(MAX_FILE_LINES + 1, 20 * 1024 * 1024), 'many.jsonl'), purpose: 'batch' })
      .catch((caught: unknown) => caught);
    expect(tooMany).toBeInstanceOf(OpenAI.BadRequestError);
    expect((tooMany as Error).message).toContain(`more than ${MAX_FILE_LINES}`);
  });
});
