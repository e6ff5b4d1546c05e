import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import type { ChatModel, ChatRequest } from '@llmq/core';
import type { BatchLineOutcome, ProviderBatchApi } from '../provider-batch-api.js';

/** A chat request of `provider/modelId` saying `content`. */
export const chatRequestOf =
  (provider: string, modelId: string) =>
  (content: string, extra: Partial<ChatRequest> = {}): ChatRequest => ({
    model: `${provider}/${modelId}`,
    messages: [{ role: 'user', content }],
    ...extra,
  });

/** Sends `requests` as one batch (line ids `line-<index>`) and reads its lines once it has ended. */
export async function batchOf(
  api: ProviderBatchApi,
  modelId: string,
  requests: ChatRequest[],
  intent = randomUUID(),
): Promise<{ batchId: string; state: Awaited<ReturnType<ProviderBatchApi['state']>>; outcomes: BatchLineOutcome[] }> {
  const lines = requests.map((request, index) => ({ customId: `line-${index}`, body: api.chatLine(request, modelId) }));
  const batchId = await api.create({ modelId, lines, intent });
  await expect.poll(async () => (await api.state(batchId)).ended).toBe(true);
  const outcomes: BatchLineOutcome[] = [];
  for await (const outcome of api.results(batchId, `${api.provider}/${modelId}`)) outcomes.push(outcome);
  return { batchId, state: await api.state(batchId), outcomes };
}

/** Requests every provider's batch lines must answer as its synchronous adapter does: text, a schema, a tool. */
export const sampleRequests = (chat: ReturnType<typeof chatRequestOf>): ChatRequest[] => [
  chat('Summarise the batch.', { max_tokens: 40 }),
  chat('Answer to the schema.', {
    response_format: {
      type: 'json_schema',
      json_schema: { name: 'verdict', schema: { type: 'object', properties: { ok: { type: 'boolean' } } } },
    },
  }),
  chat('Weather in Paris?', {
    tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } }],
    tool_choice: 'required',
  }),
];

/** Each `line-<index>` outcome is the answer `model` gives `requests[index]` synchronously (its creation time aside). */
export async function expectAnswersOfSyncCalls(
  outcomes: readonly BatchLineOutcome[],
  requests: readonly ChatRequest[],
  model: ChatModel,
): Promise<void> {
  for (const [index, request] of requests.entries()) {
    const sync = await model.doGenerate(request, { timeoutMs: 10_000 });
    expect(outcomes.find((line) => line.customId === `line-${index}`)).toEqual({
      customId: `line-${index}`,
      kind: 'answer',
      result: { ...sync, created: expect.any(Number) },
      usage: { input_tokens: sync.usage.prompt_tokens, output_tokens: sync.usage.completion_tokens },
    });
  }
}
