import { randomBytes } from 'node:crypto';
import { lineStep } from './batch-line-step.js';
import type { BatchContext } from './batch-routing.js';
import { type LineAnswer, type LineOutcome, BatchRun } from './batch-runner.js';
import type { StoredBatch } from './batch-store.js';
import { embedContentBody, parseEmbedContent } from './gemini-embeddings.js';
import { type GoogleErrorBody, renderGeminiFailure } from './gemini-errors.js';
import { parseGenerateContentRequest } from './gemini-generate-request.js';
import { generateContentBody } from './gemini-generate-response.js';
import { geminiReplyFor } from './gemini-reply.js';
import { geminiResponseIdentity } from './gemini-routes.js';
import { WireError } from './wire-error.js';

export type GeminiBatchKind = 'generateContent' | 'embedContent';

/** One inline request: the request body and its caller-chosen metadata, echoed in the response. */
export interface GeminiInlineRequest {
  request: Record<string, unknown>;
  metadata: Record<string, unknown> | undefined;
}

/** A `google.rpc.Status` as batch responses carry it: the gRPC code, not the HTTP one. */
interface RpcStatus {
  code: number;
  message: string;
  details?: unknown[];
}

type InlineResult = { response: unknown } | { error: RpcStatus };

const GRPC_CODES: Readonly<Record<string, number>> = {
  CANCELLED: 1,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  INTERNAL: 13,
  UNAVAILABLE: 14,
};

const TYPE_PREFIX = 'type.googleapis.com/google.ai.generativelanguage.v1beta.';

function errored(error: WireError): LineAnswer<InlineResult> {
  const body = (error.body as GoogleErrorBody).error;
  const status: RpcStatus = { code: GRPC_CODES[body.status] ?? 2, message: body.message };
  if (body.details !== undefined) status.details = body.details;
  return { errored: true, result: { error: status }, promptTokens: 0, completionTokens: 0 };
}

/** The sync method's answer to one inline request. */
function answer(kind: GeminiBatchKind, model: string, request: Record<string, unknown>): LineAnswer<InlineResult> {
  try {
    if (kind === 'embedContent') {
      const input = parseEmbedContent(request, model);
      return {
        errored: false,
        result: { response: embedContentBody(model, input) },
        promptTokens: input.tokens,
        completionTokens: 0,
      };
    }
    // The batch names its model once, in the URL; a request's own `model` does not change the answer.
    const { model: _ignored, ...body } = request;
    const parsed = parseGenerateContentRequest(body);
    const reply = geminiReplyFor(model, parsed);
    const response = generateContentBody(geminiResponseIdentity(model, parsed), reply);
    return {
      errored: false,
      result: { response },
      promptTokens: reply.promptTokens,
      completionTokens: reply.completionTokens,
    };
  } catch (error) {
    if (error instanceof WireError) return errored(error);
    throw error;
  }
}

const UNANSWERED: Record<'canceled' | 'expired', RpcStatus> = {
  canceled: { code: GRPC_CODES.CANCELLED ?? 1, message: 'The batch was cancelled before this request ran.' },
  expired: { code: GRPC_CODES.DEADLINE_EXCEEDED ?? 4, message: 'The batch expired before this request ran.' },
};

function inlineResponse(outcome: LineOutcome<InlineResult> | undefined, metadata: Record<string, unknown> | undefined) {
  const result: InlineResult = outcome?.answer?.result ?? {
    error: outcome?.state === 'canceled' ? UNANSWERED.canceled : UNANSWERED.expired,
  };
  return metadata === undefined ? result : { ...result, metadata };
}

/**
 * One Gemini batch (an Operation whose metadata is a `GenerateContentBatch` or `EmbedContentBatch`):
 * PENDING until its first request is answered, RUNNING, then SUCCEEDED, CANCELLED or EXPIRED,
 * with inline responses in request order once it is done.
 */
export class GeminiBatch implements StoredBatch {
  readonly id = randomBytes(16).toString('hex');
  private readonly createdAt = Date.now();
  private readonly run: BatchRun<InlineResult>;
  private readonly options: {
    kind: GeminiBatchKind;
    model: string;
    displayName: string;
    requests: readonly GeminiInlineRequest[];
  };

  constructor(
    options: { kind: GeminiBatchKind; model: string; displayName: string; requests: readonly GeminiInlineRequest[] },
    context: BatchContext,
  ) {
    this.options = options;
    const { kind, model, requests } = options;
    context.batchStats.batchCreated('gemini');
    for (const { metadata } of requests) {
      context.batchStats.lineSubmitted('gemini', typeof metadata?.key === 'string' ? metadata.key : undefined);
    }
    const path = `/v1beta/models/${model}:${kind}`;
    this.run = new BatchRun<InlineResult>({
      total: requests.length,
      processingMs: context.settings.batchProcessingMs,
      expiresAt: this.createdAt + context.settings.batchExpiryMs,
      held: context.held,
      step: (index) => {
        const inline = requests[index];
        if (inline === undefined) throw new Error(`batch ${this.id} has no request ${index}`);
        const fault = context.faults.take(path, model, () => JSON.stringify(inline.request));
        return lineStep<InlineResult>({
          fault,
          model,
          answer: () => answer(kind, model, inline.request),
          fail: (failure) => errored(renderGeminiFailure(failure)),
        });
      },
      failed: (_index, error) => {
        context.onError(error);
        return errored(renderGeminiFailure({ kind: 'server_error' }));
      },
      onLineEnd: (_index, outcome) => {
        const tokens = outcome.answer && {
          prompt: outcome.answer.promptTokens,
          completion: outcome.answer.completionTokens,
        };
        context.batchStats.lineEnded('gemini', outcome.state, tokens);
      },
      onEnd: () => undefined,
    });
  }

  get name(): string {
    return `batches/${this.id}`;
  }

  isEnded(): boolean {
    return this.run.end !== undefined;
  }

  dispose(): void {
    this.run.dispose();
  }

  cancel(): void {
    this.run.cancel();
  }

  private state(): string {
    switch (this.run.end) {
      case 'completed':
        return 'BATCH_STATE_SUCCEEDED';
      case 'canceled':
        return 'BATCH_STATE_CANCELLED';
      case 'expired':
        return 'BATCH_STATE_EXPIRED';
      case undefined:
        return this.run.processing === this.run.total ? 'BATCH_STATE_PENDING' : 'BATCH_STATE_RUNNING';
    }
  }

  /** The batch as a long-running Operation, as `batches.get` answers it. */
  toJSON() {
    const { kind, model, displayName, requests } = this.options;
    const counts = this.run.counts;
    const done = this.run.end !== undefined;
    const output = done
      ? {
          inlinedResponses: {
            inlinedResponses: requests.map((inline, index) => inlineResponse(this.run.outcome(index), inline.metadata)),
          },
        }
      : undefined;
    const batchType = kind === 'embedContent' ? 'EmbedContentBatch' : 'GenerateContentBatch';
    const metadata = {
      '@type': `${TYPE_PREFIX}${batchType}`,
      model: `models/${model}`,
      displayName,
      createTime: new Date(this.createdAt).toISOString(),
      updateTime: new Date(this.run.endedAt ?? Date.now()).toISOString(),
      ...(this.run.endedAt === undefined ? {} : { endTime: new Date(this.run.endedAt).toISOString() }),
      batchStats: {
        requestCount: String(requests.length),
        successfulRequestCount: String(counts.succeeded),
        failedRequestCount: String(counts.errored + counts.canceled + counts.expired),
        pendingRequestCount: String(this.run.processing),
      },
      state: this.state(),
      name: this.name,
      ...(output === undefined ? {} : { output }),
    };
    return {
      name: this.name,
      metadata,
      done,
      ...(output === undefined ? {} : { response: { '@type': `${TYPE_PREFIX}${batchType}Output`, ...output } }),
    };
  }
}
