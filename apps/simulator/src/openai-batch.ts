import { randomBytes } from 'node:crypto';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { lineStep } from './batch-line-step.js';
import type { BatchContext } from './batch-routing.js';
import { type BatchEnd, BatchRun } from './batch-runner.js';
import type { StoredBatch } from './batch-store.js';
import { type OpenAIBatchError, type OpenAIBatchLine, readOpenAIBatchInput } from './openai-batch-input.js';
import {
  answerOpenAILine,
  failOpenAILine,
  linePromptTokens,
  type OpenAIBatchEndpoint,
  type OpenAILineResponse,
  openAIOutputLine,
} from './openai-batch-lines.js';
import type { OpenAIFileStore } from './openai-file-store.js';

type OpenAIBatchStatus =
  'validating' | 'failed' | 'in_progress' | 'finalizing' | 'completed' | 'expired' | 'cancelling' | 'cancelled';

/** Output lines written between yields to the event loop. */
const LINES_PER_CHUNK = 1000;

function seconds(epochMs: number | undefined): number | null {
  return epochMs === undefined ? null : Math.floor(epochMs / 1000);
}

export interface OpenAIBatchOptions {
  endpoint: OpenAIBatchEndpoint;
  inputFileId: string;
  content: Buffer;
  metadata: Record<string, string> | null;
  context: BatchContext;
  files: OpenAIFileStore;
  /** Prompt tokens the other batches of `model` hold in progress (for `batchEnqueuedTokens`). */
  enqueuedElsewhere: (model: string, self: OpenAIBatch) => number;
}

/**
 * One OpenAI batch: `validating` (the file is parsed in chunks), `in_progress` (lines answered
 * on the batch clock), `finalizing` (output and error files written in chunks), then `completed`;
 * or `failed` (bad file), `cancelling` -> `cancelled`, `expired`.
 */
export class OpenAIBatch implements StoredBatch {
  readonly id = `batch_${randomBytes(16).toString('hex')}`;
  private status: OpenAIBatchStatus = 'validating';
  private readonly options: OpenAIBatchOptions;
  private readonly createdAt = Date.now();
  private readonly expiresAt: number;
  private readonly times: Partial<
    Record<'in_progress' | 'finalizing' | 'completed' | 'failed' | 'expired' | 'cancelling' | 'cancelled', number>
  > = {};
  private errors: OpenAIBatchError[] | undefined;
  private lines: OpenAIBatchLine[] = [];
  private model: string | undefined;
  private run: BatchRun<OpenAILineResponse> | undefined;
  private outputFileId: string | undefined;
  private errorFileId: string | undefined;
  private readonly usage = { input: 0, output: 0 };
  /** Prompt tokens this batch holds against its model's enqueued-token bound while it runs. */
  private enqueued = 0;
  private disposed = false;

  constructor(options: OpenAIBatchOptions) {
    this.options = options;
    this.expiresAt = this.createdAt + options.context.settings.batchExpiryMs;
    options.context.batchStats.batchCreated('openai');
    this.validate().catch(options.context.onError);
  }

  isEnded(): boolean {
    return ['failed', 'completed', 'expired', 'cancelled'].includes(this.status);
  }

  /** Prompt tokens it holds in progress for `model` (OpenAI's enqueued tokens). */
  enqueuedTokensOf(model: string): number {
    return this.model === model && !this.isEnded() ? this.enqueued : 0;
  }

  dispose(): void {
    this.disposed = true;
    this.run?.dispose();
  }

  /** Asks the batch to stop: `cancelling` at once, `cancelled` once partial files are written. */
  cancel(): void {
    if (this.status !== 'validating' && this.status !== 'in_progress') return;
    this.status = 'cancelling';
    this.times.cancelling = Date.now();
    this.run?.cancel();
  }

  private async validate(): Promise<void> {
    const { context } = this.options;
    const input = await readOpenAIBatchInput(this.options.content, this.options.endpoint, () => this.stopped());
    if (this.disposed) return;
    if (input === undefined || this.status === 'cancelling') {
      this.status = 'cancelled';
      this.times.cancelled = Date.now();
      return;
    }
    if (!input.ok) {
      this.status = 'failed';
      this.times.failed = Date.now();
      this.errors = input.errors;
      return;
    }
    if (!(await this.withinEnqueuedBound(input.lines, input.model))) return;
    this.lines = input.lines;
    this.model = input.model;
    for (const line of input.lines) context.batchStats.lineSubmitted('openai', line.customId);
    this.status = 'in_progress';
    this.times.in_progress = Date.now();
    this.run = new BatchRun<OpenAILineResponse>({
      total: input.lines.length,
      processingMs: context.settings.batchProcessingMs,
      expiresAt: this.expiresAt,
      held: context.held,
      step: (index) => this.step(index),
      failed: (index, error) => {
        context.onError(error);
        return failOpenAILine({ kind: 'server_error' }, this.lines[index]?.body ?? {});
      },
      onLineEnd: (_index, outcome) => {
        const tokens = outcome.answer && {
          prompt: outcome.answer.promptTokens,
          completion: outcome.answer.completionTokens,
        };
        if (tokens) {
          this.usage.input += tokens.prompt;
          this.usage.output += tokens.completion;
        }
        context.batchStats.lineEnded('openai', outcome.state, tokens);
      },
      onEnd: (end) => {
        this.finalize(end).catch(context.onError);
      },
    });
  }

  /** Fails the batch, as OpenAI does, when its prompt tokens would take its model past the bound. */
  private async withinEnqueuedBound(lines: readonly OpenAIBatchLine[], model: string): Promise<boolean> {
    const limit = this.options.context.settings.batchEnqueuedTokens;
    if (limit === undefined) return true;
    let tokens = 0;
    for (let index = 0; index < lines.length; index += 1) {
      if (index % LINES_PER_CHUNK === 0 && index > 0) await yieldToEventLoop();
      const line = lines[index];
      if (line !== undefined) tokens += linePromptTokens(this.options.endpoint, line.body);
    }
    if (this.options.enqueuedElsewhere(model, this) + tokens <= limit) {
      // Counted from here on, in the same turn as the check.
      this.model = model;
      this.enqueued = tokens;
      return true;
    }
    this.status = 'failed';
    this.times.failed = Date.now();
    this.errors = [
      {
        code: 'token_limit_exceeded',
        message: `Enqueued token limit reached for ${model} in organization org-simulator. Limit: ${limit.toLocaleString('en-US')} enqueued tokens. Please try again once some in_progress batches have been completed.`,
        param: null,
        line: null,
      },
    ];
    return false;
  }

  private stopped(): boolean {
    return this.disposed || this.status === 'cancelling';
  }

  private step(index: number) {
    const line = this.lines[index];
    if (line === undefined) throw new Error(`batch ${this.id} has no line ${index}`);
    const { faults } = this.options.context;
    const content = this.options.content;
    const fault = faults.take(this.options.endpoint, line.model, () => content.toString('utf8', line.start, line.end));
    return lineStep<OpenAILineResponse>({
      fault,
      model: line.model,
      answer: () => answerOpenAILine(this.options.endpoint, line.body, Date.now()),
      fail: (failure) => failOpenAILine(failure, line.body),
    });
  }

  private async finalize(end: BatchEnd): Promise<void> {
    const run = this.run;
    if (run === undefined) return;
    if (end === 'completed') {
      this.status = 'finalizing';
      this.times.finalizing = Date.now();
    }
    const output: string[] = [];
    const errors: string[] = [];
    for (let index = 0; index < this.lines.length; index += 1) {
      if (index % LINES_PER_CHUNK === 0 && index > 0) {
        await yieldToEventLoop();
        if (this.disposed) return;
      }
      const line = this.lines[index];
      const outcome = run.outcome(index);
      if (line === undefined || outcome === undefined) continue;
      const written = openAIOutputLine(line.customId, outcome);
      (written.file === 'output' ? output : errors).push(written.text);
    }
    const { files } = this.options;
    if (output.length > 0) {
      const content = Buffer.from(`${output.join('\n')}\n`);
      this.outputFileId = files.add(content, { filename: `${this.id}_output.jsonl`, purpose: 'batch_output' }).id;
    }
    if (errors.length > 0) {
      const content = Buffer.from(`${errors.join('\n')}\n`);
      this.errorFileId = files.add(content, { filename: `${this.id}_error.jsonl`, purpose: 'batch_output' }).id;
    }
    const status = end === 'completed' ? 'completed' : end === 'canceled' ? 'cancelled' : 'expired';
    this.status = status;
    this.times[status] = Date.now();
  }

  /** The Batch object, as OpenAI answers it. */
  toJSON() {
    const counts = this.run?.counts;
    return {
      id: this.id,
      object: 'batch',
      endpoint: this.options.endpoint,
      model: this.model ?? null,
      errors: this.errors === undefined ? null : { object: 'list', data: this.errors },
      input_file_id: this.options.inputFileId,
      completion_window: '24h',
      status: this.status,
      output_file_id: this.outputFileId ?? null,
      error_file_id: this.errorFileId ?? null,
      created_at: seconds(this.createdAt),
      in_progress_at: seconds(this.times.in_progress),
      expires_at: seconds(this.expiresAt),
      finalizing_at: seconds(this.times.finalizing),
      completed_at: seconds(this.times.completed),
      failed_at: seconds(this.times.failed),
      expired_at: seconds(this.times.expired),
      cancelling_at: seconds(this.times.cancelling),
      cancelled_at: seconds(this.times.cancelled),
      request_counts: {
        total: this.lines.length,
        completed: counts?.succeeded ?? 0,
        failed: counts?.errored ?? 0,
      },
      usage: {
        input_tokens: this.usage.input,
        input_tokens_details: { cached_tokens: 0 },
        output_tokens: this.usage.output,
        output_tokens_details: { reasoning_tokens: 0 },
        total_tokens: this.usage.input + this.usage.output,
      },
      metadata: this.options.metadata,
    };
  }
}
