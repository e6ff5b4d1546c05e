import type { AccountStats } from './accounts.js';
import type { BatchProvider, BatchProviderStats } from './batch-stats.js';
import type { FaultKind } from './fault-rules.js';
import type { WindowStats } from './rate-limiter.js';

/** Entries kept by the request log when `requestLogCapacity` is not set. */
export const DEFAULT_REQUEST_LOG_CAPACITY = 200_000;

/** One provider request as the log records it. */
export interface RequestLogEntry {
  /** 1, 2, 3... in arrival order; survives the ring buffer wrapping, so clients can page. */
  sequence: number;
  /** Arrival time, epoch ms. */
  time: number;
  path: string;
  /** Model named by the request; null when the body never got that far (auth, JSON errors). */
  model: string | null;
  /** HTTP status answered; 0 when no answer was sent ("hang", "reset"). */
  status: number;
  promptTokens: number;
  completionTokens: number;
  /** The injected fault, if any. */
  fault: FaultKind | null;
  /** The service tier the request asked for (OpenAI's `service_tier`, Gemini's `serviceTier`), when it named one. */
  serviceTier?: string;
}

/** The body of `GET /_sim/stats`. */
export interface SimulatorStats {
  /** When counting started (creation or last reset), epoch ms. */
  since: number;
  requests: {
    total: number;
    byPath: Record<string, number>;
    byModel: Record<string, number>;
    /** Keyed by status code as a string; "0" = no answer. */
    byStatus: Record<string, number>;
    /** All 429 answers: limiter refusals and injected ones. */
    rateLimited: number;
  };
  faults: { injected: number; byKind: Partial<Record<FaultKind, number>> };
  inFlight: { current: number; peak: number };
  /** Requests hanging on a "hang" fault right now. */
  hanging: number;
  /** Requests parked by a "hold" fault right now. */
  held: number;
  /** Tokens of admitted requests (the ones answered or being answered successfully). */
  tokens: { prompt: number; completion: number };
  /**
   * Rate windows by model, plus "*" for all models together and "org:<org>" for each organisation
   * of the accounts.
   */
  windows: Record<string, WindowStats>;
  /** Counters by API key of the configured accounts; empty without accounts. */
  accounts: Record<string, AccountStats>;
  /** Batch APIs by provider: batches created, lines submitted (by id), lines ended, tokens. */
  batches: Record<BatchProvider, BatchProviderStats>;
}

function increment(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}

/** Counters and the capped request log. Cheap per request: a few increments and one array slot. */
export class StatsRecorder {
  private readonly capacity: number;
  private log: RequestLogEntry[] = [];
  /** Next slot to overwrite once the log is full. */
  private nextSlot = 0;
  private sequence = 0;
  private since = Date.now();
  private total = 0;
  private byPath: Record<string, number> = {};
  private byModel: Record<string, number> = {};
  private byStatus: Record<string, number> = {};
  private rateLimited = 0;
  private faultsInjected = 0;
  private faultsByKind: Partial<Record<FaultKind, number>> = {};
  private inFlight = 0;
  private peakInFlight = 0;
  private promptTokens = 0;
  private completionTokens = 0;

  constructor(capacity: number = DEFAULT_REQUEST_LOG_CAPACITY) {
    this.capacity = Math.max(1, capacity);
  }

  requestOpened(): void {
    this.inFlight += 1;
    if (this.inFlight > this.peakInFlight) this.peakInFlight = this.inFlight;
  }

  requestClosed(): void {
    this.inFlight -= 1;
  }

  /** Records a finished decision about a request; tokens count only for 2xx answers. */
  record(entry: Omit<RequestLogEntry, 'sequence'>): void {
    this.sequence += 1;
    const logged: RequestLogEntry = { sequence: this.sequence, ...entry };
    if (this.log.length < this.capacity) {
      this.log.push(logged);
    } else {
      this.log[this.nextSlot] = logged;
      this.nextSlot = (this.nextSlot + 1) % this.capacity;
    }
    this.total += 1;
    increment(this.byPath, entry.path);
    if (entry.model !== null) increment(this.byModel, entry.model);
    increment(this.byStatus, String(entry.status));
    if (entry.status === 429) this.rateLimited += 1;
    if (entry.fault !== null) {
      this.faultsInjected += 1;
      this.faultsByKind[entry.fault] = (this.faultsByKind[entry.fault] ?? 0) + 1;
    }
    if (entry.status >= 200 && entry.status < 300) {
      this.promptTokens += entry.promptTokens;
      this.completionTokens += entry.completionTokens;
    }
  }

  /** Logged requests that arrived at or after `since` (epoch ms), oldest first. */
  requestsSince(since: number): RequestLogEntry[] {
    const ordered =
      this.log.length < this.capacity
        ? this.log
        : [...this.log.slice(this.nextSlot), ...this.log.slice(0, this.nextSlot)];
    return ordered.filter((entry) => entry.time >= since);
  }

  snapshot(
    windows: Record<string, WindowStats>,
    parked: { hanging: number; held: number },
    batches: Record<BatchProvider, BatchProviderStats>,
    accounts: Record<string, AccountStats>,
  ): SimulatorStats {
    return {
      since: this.since,
      requests: {
        total: this.total,
        byPath: { ...this.byPath },
        byModel: { ...this.byModel },
        byStatus: { ...this.byStatus },
        rateLimited: this.rateLimited,
      },
      faults: { injected: this.faultsInjected, byKind: { ...this.faultsByKind } },
      inFlight: { current: this.inFlight, peak: this.peakInFlight },
      hanging: parked.hanging,
      held: parked.held,
      tokens: { prompt: this.promptTokens, completion: this.completionTokens },
      windows,
      accounts,
      batches,
    };
  }

  /** Clears counters and the log. In-flight requests stay counted: they are still open. */
  reset(): void {
    this.log = [];
    this.nextSlot = 0;
    this.since = Date.now();
    this.total = 0;
    this.byPath = {};
    this.byModel = {};
    this.byStatus = {};
    this.rateLimited = 0;
    this.faultsInjected = 0;
    this.faultsByKind = {};
    this.peakInFlight = this.inFlight;
    this.promptTokens = 0;
    this.completionTokens = 0;
  }
}
