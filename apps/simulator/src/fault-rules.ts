import { z } from 'zod';

/**
 * Fault kinds:
 * - "429": rate-limit error (`rate_limit_exceeded`) with `x-ratelimit-*` headers.
 * - "insufficient_quota": a 429 whose code says the quota is gone (not retryable).
 * - "500": server error; "503": overloaded.
 * - "529": overloaded with status 529, Anthropic's own overload answer (`overloaded_error`); the
 *   OpenAI wire format answers it as its 503 overload body with status 529.
 * - "hang": never answers, until the client gives up or the simulator closes.
 * - "reset": the connection is reset (TCP RST) without an answer.
 * - "hold": waits until the fault rules next change (set, cleared or reset), then is answered
 *   normally: a pause button for tests that must see exactly what is in flight.
 * - "timeout_then_ok": answers normally but only after `delay_ms` (default 30 s), i.e. after a
 *   typical client timeout; the simulator still counts the call as served, like a provider that
 *   finished the work the client stopped waiting for. With `count: 1` it is "first attempt times
 *   out, the retry succeeds".
 */
export const FAULT_KINDS = [
  '429',
  '500',
  '503',
  '529',
  'hang',
  'reset',
  'insufficient_quota',
  'timeout_then_ok',
  'hold',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** Default `delay_ms` of "timeout_then_ok". */
export const DEFAULT_TIMEOUT_THEN_OK_DELAY_MS = 30_000;

/** Strict, so a misspelt field in a control request fails loudly instead of matching everything. */
export const faultRuleSchema = z.strictObject({
  /** Which requests the rule applies to; every field optional, absent = any. */
  match: z
    .strictObject({
      /** Exact request path, e.g. "/v1/chat/completions". */
      path: z.string().optional(),
      /** Model name; "*" matches any run of characters ("gpt-4o*"). */
      model: z.string().optional(),
      /**
       * A substring of the request body's JSON text, or of a batch line's (a marker in a prompt:
       * "FAIL-THIS"). JSON escapes count: match plain ASCII markers.
       */
      contains: z.string().min(1).optional(),
    })
    .optional(),
  fault: z.enum(FAULT_KINDS),
  /** How many matching requests get the fault; absent = all of them. */
  count: z.int().min(0).optional(),
  /** Sent as `retry-after-ms`. */
  retry_after_ms: z.number().min(0).optional(),
  /** Sent as `retry-after` (seconds). */
  retry_after_s: z.number().min(0).optional(),
  /** Chance that a matching request gets the fault; default 1. A miss does not use up `count`. */
  probability: z.number().min(0).max(1).optional(),
  /** Delay of "timeout_then_ok", ms. */
  delay_ms: z.int().min(0).optional(),
});
export const faultRuleListSchema = z.array(faultRuleSchema);

export type FaultRule = z.infer<typeof faultRuleSchema>;

/** A rule as reported by the control API, with what it has done so far. */
export interface FaultRuleStatus extends FaultRule {
  /** Matching requests it may still hit; null = unlimited. */
  remaining: number | null;
  /** Requests it has hit. */
  injected: number;
}

/** What the pipeline must do to one request. */
export interface InjectedFault {
  kind: FaultKind;
  retryAfterMs?: number | undefined;
  retryAfterSeconds?: number | undefined;
  /** For "timeout_then_ok": how long to wait before answering, ms. */
  delayMs: number;
}

function globToRegExp(glob: string): RegExp {
  const escaped = glob.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${escaped.join('.*')}$`);
}

interface ActiveRule {
  rule: FaultRule;
  modelPattern: RegExp | undefined;
  remaining: number | undefined;
  injected: number;
}

/**
 * The current fault rules, checked in order for each request: the first rule that matches, still
 * has `count` left and wins its `probability` draw is applied.
 */
export class FaultRuleBook {
  private rules: ActiveRule[] = [];
  private readonly random: () => number;

  /** `random` draws for `probability`; default Math.random. */
  constructor(rules: readonly FaultRule[] = [], random: () => number = Math.random) {
    this.random = random;
    this.replace(rules);
  }

  /** Replaces all rules; parses them first, so bad input throws a `z.ZodError` and changes nothing. */
  replace(rules: readonly unknown[]): void {
    this.rules = faultRuleListSchema.parse(rules).map((rule) => ({
      rule,
      modelPattern: rule.match?.model === undefined ? undefined : globToRegExp(rule.match.model),
      remaining: rule.count,
      injected: 0,
    }));
  }

  clear(): void {
    this.rules = [];
  }

  /**
   * The fault for a request, using up one of the rule's `count`; undefined when none applies.
   * `text` gives the body's JSON text, read only when a rule has `contains`.
   */
  take(path: string, model: string, text?: () => string): InjectedFault | undefined {
    let bodyText: string | undefined;
    const contains = (marker: string): boolean => {
      bodyText ??= text?.() ?? '';
      return bodyText.includes(marker);
    };
    for (const active of this.rules) {
      const { rule } = active;
      if (active.remaining !== undefined && active.remaining <= 0) continue;
      if (rule.match?.path !== undefined && rule.match.path !== path) continue;
      if (active.modelPattern !== undefined && !active.modelPattern.test(model)) continue;
      if (rule.match?.contains !== undefined && !contains(rule.match.contains)) continue;
      if (rule.probability !== undefined && this.random() >= rule.probability) continue;
      if (active.remaining !== undefined) active.remaining -= 1;
      active.injected += 1;
      return {
        kind: rule.fault,
        retryAfterMs: rule.retry_after_ms,
        retryAfterSeconds: rule.retry_after_s,
        delayMs: rule.delay_ms ?? DEFAULT_TIMEOUT_THEN_OK_DELAY_MS,
      };
    }
    return undefined;
  }

  list(): FaultRuleStatus[] {
    return this.rules.map((active) => ({
      ...active.rule,
      remaining: active.remaining ?? null,
      injected: active.injected,
    }));
  }
}
