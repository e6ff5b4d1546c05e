import type { LineState } from './batch-runner.js';

export const BATCH_PROVIDERS = ['openai', 'anthropic', 'gemini'] as const;
export type BatchProvider = (typeof BATCH_PROVIDERS)[number];

/** Distinct line ids remembered per provider; beyond it ids are counted but not remembered. */
export const MAX_TRACKED_CUSTOM_IDS = 500_000;
/** Ids listed in `resubmittedCustomIds`, at most. */
const MAX_LISTED_RESUBMISSIONS = 100;

/** One provider's batch counters, in `SimulatorStats.batches`. */
export interface BatchProviderStats {
  /** Batches accepted (created), including ones that later failed validation. */
  created: number;
  /** Lines submitted in accepted batches (OpenAI: lines of files whose validation passed). */
  linesSubmitted: number;
  /** Distinct ids among them: `custom_id` (OpenAI, Anthropic), `metadata.key` (Gemini). */
  distinctCustomIds: number;
  /** Ids submitted more than once, first 100; empty proves each id was submitted once. */
  resubmittedCustomIds: string[];
  /** False once more than 500,000 distinct ids were seen: `distinctCustomIds` is then a floor. */
  customIdsExact: boolean;
  /** Lines by how they ended. */
  lines: Record<LineState, number>;
  /** Tokens of answered lines. */
  tokens: { prompt: number; completion: number };
}

class ProviderCounters {
  created = 0;
  linesSubmitted = 0;
  readonly submissions = new Map<string, number>();
  readonly resubmitted: string[] = [];
  exact = true;
  readonly lines: Record<LineState, number> = { succeeded: 0, errored: 0, canceled: 0, expired: 0 };
  readonly tokens = { prompt: 0, completion: 0 };

  snapshot(): BatchProviderStats {
    return {
      created: this.created,
      linesSubmitted: this.linesSubmitted,
      distinctCustomIds: this.submissions.size,
      resubmittedCustomIds: [...this.resubmitted],
      customIdsExact: this.exact,
      lines: { ...this.lines },
      tokens: { ...this.tokens },
    };
  }
}

function freshCounters(): Record<BatchProvider, ProviderCounters> {
  return { openai: new ProviderCounters(), anthropic: new ProviderCounters(), gemini: new ProviderCounters() };
}

/** Counts every batch line submitted, by provider and id, and how lines ended. */
export class BatchStats {
  private counters = freshCounters();

  batchCreated(provider: BatchProvider): void {
    this.counters[provider].created += 1;
  }

  /** One submitted line; `customId` undefined when the line carries no id (Gemini without `metadata.key`). */
  lineSubmitted(provider: BatchProvider, customId: string | undefined): void {
    const counters = this.counters[provider];
    counters.linesSubmitted += 1;
    if (customId === undefined) return;
    const seen = counters.submissions.get(customId);
    if (seen === undefined) {
      if (counters.submissions.size >= MAX_TRACKED_CUSTOM_IDS) counters.exact = false;
      else counters.submissions.set(customId, 1);
      return;
    }
    counters.submissions.set(customId, seen + 1);
    if (seen === 1 && counters.resubmitted.length < MAX_LISTED_RESUBMISSIONS) counters.resubmitted.push(customId);
  }

  lineEnded(provider: BatchProvider, state: LineState, tokens?: { prompt: number; completion: number }): void {
    const counters = this.counters[provider];
    counters.lines[state] += 1;
    if (tokens === undefined) return;
    counters.tokens.prompt += tokens.prompt;
    counters.tokens.completion += tokens.completion;
  }

  /** How many times each id was submitted (up to 500,000 ids). */
  submissions(provider: BatchProvider): Record<string, number> {
    return Object.fromEntries(this.counters[provider].submissions);
  }

  snapshot(): Record<BatchProvider, BatchProviderStats> {
    return {
      openai: this.counters.openai.snapshot(),
      anthropic: this.counters.anthropic.snapshot(),
      gemini: this.counters.gemini.snapshot(),
    };
  }

  reset(): void {
    this.counters = freshCounters();
  }
}
