import { randomBytes } from 'node:crypto';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { anthropicRequestId, renderAnthropicFailure } from './anthropic-errors.js';
import { anthropicReplyFor } from './anthropic-messages-reply.js';
import { type AnthropicVersion, parseMessagesRequest } from './anthropic-messages-request.js';
import { anthropicMessageBody } from './anthropic-messages-response.js';
import { messageIdentity, messagesRequestHash } from './anthropic-routes.js';
import { lineStep } from './batch-line-step.js';
import type { BatchContext } from './batch-routing.js';
import { type LineAnswer, type LineOutcome, BatchRun } from './batch-runner.js';
import type { StoredBatch } from './batch-store.js';
import type { SimulatedFailure } from './provider-endpoint.js';
import { WireError } from './wire-error.js';

/** One request of a Message Batch, validated at creation. */
export interface AnthropicBatchRequest {
  customId: string;
  params: Record<string, unknown>;
}

/** A line's `result` for a succeeded or errored request. */
type AnswerResult = { type: 'succeeded'; message: unknown } | { type: 'errored'; error: unknown };

/** Result lines written between yields to the event loop. */
const LINES_PER_CHUNK = 1000;

function errored(error: WireError): LineAnswer<AnswerResult> {
  return { errored: true, result: { type: 'errored', error: error.body }, promptTokens: 0, completionTokens: 0 };
}

function answer(params: Record<string, unknown>, version: AnthropicVersion): LineAnswer<AnswerResult> {
  try {
    const parsed = parseMessagesRequest(params, version);
    const reply = anthropicReplyFor(parsed);
    const identity = messageIdentity(parsed.request, messagesRequestHash(parsed.request));
    return {
      errored: false,
      result: { type: 'succeeded', message: anthropicMessageBody(identity, reply) },
      promptTokens: reply.inputTokens,
      completionTokens: reply.outputTokens,
    };
  } catch (error) {
    if (error instanceof WireError) return errored(error);
    throw error;
  }
}

function resultOf(outcome: LineOutcome<AnswerResult>): unknown {
  if (outcome.answer !== undefined) return outcome.answer.result;
  return { type: outcome.state === 'canceled' ? 'canceled' : 'expired' };
}

function iso(epochMs: number | undefined): string | null {
  return epochMs === undefined ? null : new Date(epochMs).toISOString();
}

/**
 * One Message Batch: `in_progress` while its requests are answered on the batch clock, `canceling`
 * after a cancel, `ended` once its results file is written (in chunks).
 */
export class AnthropicBatch implements StoredBatch {
  readonly id = `msgbatch_${randomBytes(12).toString('hex')}`;
  private readonly createdAt = Date.now();
  private readonly expiresAt: number;
  private readonly requests: readonly AnthropicBatchRequest[];
  private readonly run: BatchRun<AnswerResult>;
  private results: Buffer | undefined;
  private endedAt: number | undefined;
  private disposed = false;

  constructor(options: {
    requests: readonly AnthropicBatchRequest[];
    version: AnthropicVersion;
    context: BatchContext;
  }) {
    const { requests, version, context } = options;
    this.requests = requests;
    this.expiresAt = this.createdAt + context.settings.batchExpiryMs;
    context.batchStats.batchCreated('anthropic');
    for (const request of requests) context.batchStats.lineSubmitted('anthropic', request.customId);
    this.run = new BatchRun<AnswerResult>({
      total: requests.length,
      processingMs: context.settings.batchProcessingMs,
      expiresAt: this.expiresAt,
      held: context.held,
      step: (index) => {
        const request = requests[index];
        if (request === undefined) throw new Error(`batch ${this.id} has no request ${index}`);
        const model = typeof request.params.model === 'string' ? request.params.model : '';
        const fault = context.faults.take('/v1/messages', model, () => JSON.stringify(request.params));
        return lineStep<AnswerResult>({
          fault,
          model,
          answer: () => answer(request.params, version),
          fail: (failure: SimulatedFailure) => errored(renderAnthropicFailure(failure)),
        });
      },
      failed: (_index, error) => {
        context.onError(error);
        return errored(renderAnthropicFailure({ kind: 'server_error' }));
      },
      onLineEnd: (_index, outcome) => {
        const tokens = outcome.answer && {
          prompt: outcome.answer.promptTokens,
          completion: outcome.answer.completionTokens,
        };
        context.batchStats.lineEnded('anthropic', outcome.state, tokens);
      },
      onEnd: () => {
        this.writeResults().catch(context.onError);
      },
    });
  }

  isEnded(): boolean {
    return this.results !== undefined;
  }

  dispose(): void {
    this.disposed = true;
    this.run.dispose();
  }

  cancel(): void {
    this.run.cancel();
  }

  /** The results JSONL, once the batch has ended. */
  resultsFile(): Buffer | undefined {
    return this.results;
  }

  private async writeResults(): Promise<void> {
    const lines: string[] = [];
    for (let index = 0; index < this.requests.length; index += 1) {
      if (index % LINES_PER_CHUNK === 0 && index > 0) {
        await yieldToEventLoop();
        if (this.disposed) return;
      }
      const outcome = this.run.outcome(index);
      const request = this.requests[index];
      if (outcome === undefined || request === undefined) continue;
      lines.push(JSON.stringify({ custom_id: request.customId, result: resultOf(outcome) }));
    }
    this.results = Buffer.from(`${lines.join('\n')}\n`);
    this.endedAt = Date.now();
  }

  /** The MessageBatch object; `origin` is this server as the client reached it, for `results_url`. */
  toJSON(origin: string) {
    const counts = this.run.counts;
    const ended = this.results !== undefined;
    return {
      id: this.id,
      type: 'message_batch',
      processing_status: ended ? 'ended' : this.run.cancelRequestedAt === undefined ? 'in_progress' : 'canceling',
      request_counts: {
        processing: ended ? 0 : this.run.processing,
        succeeded: counts.succeeded,
        errored: counts.errored,
        canceled: counts.canceled,
        expired: counts.expired,
      },
      ended_at: iso(this.endedAt),
      created_at: iso(this.createdAt),
      expires_at: iso(this.expiresAt),
      archived_at: null,
      cancel_initiated_at: iso(this.run.cancelRequestedAt),
      results_url: ended ? `${origin}/v1/messages/batches/${this.id}/results` : null,
    };
  }
}

/** Anthropic answers every request with a `request-id`. */
export function anthropicBatchHeaders(): Record<string, string> {
  return { 'request-id': anthropicRequestId() };
}
