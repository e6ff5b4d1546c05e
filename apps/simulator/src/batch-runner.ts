import type { HoldGate } from './hold-gate.js';

/**
 * The in-memory processing clock shared by the three batch APIs. A batch's lines come due evenly
 * spread over `processingMs` from its start (line i of n at start + processingMs * (i + 1) / n);
 * due lines are answered in chunks that yield to the event loop, so 50,000 lines never stall the
 * server. A cancel ends the batch at the next turn; a batch still running at `expiresAt` ends
 * expired. Lines left unanswered at the end are canceled or expired.
 */

/** How one line ended. */
export type LineState = 'succeeded' | 'errored' | 'canceled' | 'expired';

/** Why a batch ended. */
export type BatchEnd = 'completed' | 'canceled' | 'expired';

/** A line's answer in the provider's own shape (a response body, an error body...). */
export interface LineAnswer<Result> {
  errored: boolean;
  result: Result;
  promptTokens: number;
  completionTokens: number;
}

/** What happens to a line when its turn comes; the provider decides (faults, validation). */
export type LineStep<Result> =
  | { kind: 'answer'; answer: LineAnswer<Result> }
  /** Answered `delayMs` later ("timeout_then_ok"). */
  | { kind: 'delay'; delayMs: number; answer: () => LineAnswer<Result> }
  /** Answered once the fault rules next change ("hold"). */
  | { kind: 'hold'; answer: () => LineAnswer<Result> }
  /** Never answered: canceled or expired with the batch ("hang"). */
  | { kind: 'hang' };

export interface LineOutcome<Result> {
  state: LineState;
  /** The answer, for succeeded and errored lines. */
  answer?: LineAnswer<Result>;
}

export interface BatchRunOptions<Result> {
  /** Number of lines. */
  total: number;
  /** Decides line `index`'s fate; called once per line, in order. */
  step(index: number): LineStep<Result>;
  /** Time from start to the last line's turn, ms. */
  processingMs: number;
  /** Epoch ms at which a batch still running ends expired. */
  expiresAt: number;
  /** Where "hold" lines wait for the fault rules to change. */
  held: HoldGate;
  /**
   * The line's answer when deciding or answering it threw (a bug, not bad input: bad input is an
   * errored answer already), so one broken line cannot stop the batch or the process.
   */
  failed(index: number, error: unknown): LineAnswer<Result>;
  /** Called once per line as it ends, in any order. */
  onLineEnd?(index: number, outcome: LineOutcome<Result>): void;
  /** Called once when the last line has ended, after every `onLineEnd`. */
  onEnd(end: BatchEnd): void;
}

/** Lines answered per turn before yielding to the event loop. */
export const LINES_PER_TURN = 256;
/** setTimeout's largest delay; longer waits wake up and wait again. */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface DueLine<Result> {
  index: number;
  at: number;
  answer: () => LineAnswer<Result>;
}

export class BatchRun<Result> {
  readonly total: number;
  readonly startedAt = Date.now();
  readonly counts = { succeeded: 0, errored: 0, canceled: 0, expired: 0 };
  /** Why it ended, once it has. */
  end: BatchEnd | undefined;
  /** Epoch ms of the end. */
  endedAt: number | undefined;
  /** Epoch ms of the cancel request. */
  cancelRequestedAt: number | undefined;

  private readonly options: BatchRunOptions<Result>;
  private readonly outcomes: Array<LineOutcome<Result> | undefined>;
  private next = 0;
  private ended = 0;
  private readonly due: Array<DueLine<Result>> = [];
  private readonly parked = new Map<number, () => void>();
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;

  constructor(options: BatchRunOptions<Result>) {
    this.options = options;
    this.total = options.total;
    this.outcomes = new Array<LineOutcome<Result> | undefined>(options.total);
    this.wake(0);
  }

  /** Lines not yet ended. */
  get processing(): number {
    return this.total - this.ended;
  }

  outcome(index: number): LineOutcome<Result> | undefined {
    return this.outcomes[index];
  }

  /** Asks the batch to stop; it ends canceled at its next turn. False when it already ended. */
  cancel(): boolean {
    if (this.end !== undefined) return false;
    this.cancelRequestedAt ??= Date.now();
    this.wake(0);
    return true;
  }

  /** Stops all timers without ending the batch (the simulator is closing or dropping it). */
  dispose(): void {
    this.clearTimers();
    for (const unpark of this.parked.values()) unpark();
    this.parked.clear();
  }

  private dueAt(index: number): number {
    return this.startedAt + (this.options.processingMs * (index + 1)) / this.total;
  }

  private wake(delayMs: number): void {
    this.clearTimers();
    if (delayMs <= 0) this.immediate = setImmediate(this.turn);
    else this.timer = setTimeout(this.turn, Math.min(delayMs, MAX_TIMER_MS)).unref();
  }

  private clearTimers(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.immediate !== undefined) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
  }

  private readonly turn = (): void => {
    this.timer = undefined;
    this.immediate = undefined;
    if (this.end !== undefined) return;
    const now = Date.now();
    if (this.cancelRequestedAt !== undefined) return this.finish('canceled');
    if (now >= this.options.expiresAt) return this.finish('expired');
    let budget = LINES_PER_TURN;
    for (let position = 0; position < this.due.length && budget > 0;) {
      const line = this.due[position];
      if (line === undefined || line.at > now) {
        position += 1;
        continue;
      }
      this.due.splice(position, 1);
      this.settle(line.index, this.guarded(line.index, line.answer));
      budget -= 1;
    }
    while (budget > 0 && this.next < this.total && this.dueAt(this.next) <= now) {
      this.start(this.next, now);
      this.next += 1;
      budget -= 1;
    }
    if (this.ended === this.total) return this.finish('completed');
    if (budget === 0) return this.wake(0);
    let nextAt = this.options.expiresAt;
    if (this.next < this.total) nextAt = Math.min(nextAt, this.dueAt(this.next));
    for (const line of this.due) nextAt = Math.min(nextAt, line.at);
    this.wake(nextAt - now);
  };

  private guarded(index: number, answer: () => LineAnswer<Result>): LineAnswer<Result> {
    try {
      return answer();
    } catch (error) {
      return this.options.failed(index, error);
    }
  }

  private start(index: number, now: number): void {
    let step: LineStep<Result>;
    try {
      step = this.options.step(index);
    } catch (error) {
      return this.settle(index, this.options.failed(index, error));
    }
    switch (step.kind) {
      case 'answer':
        return this.settle(index, step.answer);
      case 'delay':
        this.due.push({ index, at: now + step.delayMs, answer: step.answer });
        return;
      case 'hold': {
        const unpark = this.options.held.park(() => {
          this.parked.delete(index);
          this.due.push({ index, at: 0, answer: step.answer });
          this.wake(0);
        });
        this.parked.set(index, unpark);
        return;
      }
      case 'hang':
        return;
    }
  }

  private settle(index: number, answer: LineAnswer<Result>): void {
    const outcome: LineOutcome<Result> = { state: answer.errored ? 'errored' : 'succeeded', answer };
    this.record(index, outcome);
  }

  private record(index: number, outcome: LineOutcome<Result>): void {
    this.outcomes[index] = outcome;
    this.counts[outcome.state] += 1;
    this.ended += 1;
    this.options.onLineEnd?.(index, outcome);
  }

  private finish(end: BatchEnd): void {
    this.dispose();
    this.due.length = 0;
    const state: LineState = end === 'canceled' ? 'canceled' : 'expired';
    for (let index = 0; index < this.total; index += 1) {
      if (this.outcomes[index] === undefined) this.record(index, { state });
    }
    this.end = end;
    this.endedAt = Date.now();
    this.options.onEnd(end);
  }
}
