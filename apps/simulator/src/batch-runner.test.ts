import { describe, expect, it } from 'vitest';
import { type BatchEnd, BatchRun, type LineAnswer, type LineStep } from './batch-runner.js';
import { HoldGate } from './hold-gate.js';

function answerOf(index: number, errored = false): LineAnswer<string> {
  return { errored, result: `answer ${index}`, promptTokens: 1, completionTokens: 2 };
}

function start(options: {
  total: number;
  processingMs?: number;
  expiresInMs?: number;
  step?: (index: number) => LineStep<string>;
  held?: HoldGate;
}): { run: BatchRun<string>; ended: Promise<BatchEnd>; order: number[] } {
  const order: number[] = [];
  let resolveEnd: (end: BatchEnd) => void = () => undefined;
  const ended = new Promise<BatchEnd>((resolve) => {
    resolveEnd = resolve;
  });
  const run = new BatchRun<string>({
    total: options.total,
    processingMs: options.processingMs ?? 0,
    expiresAt: Date.now() + (options.expiresInMs ?? 60_000),
    held: options.held ?? new HoldGate(),
    step: options.step ?? ((index) => ({ kind: 'answer', answer: answerOf(index) })),
    failed: (index) => answerOf(index, true),
    onLineEnd: (index) => order.push(index),
    onEnd: resolveEnd,
  });
  return { run, ended, order };
}

describe('BatchRun', () => {
  it('answers every line, yielding to the event loop between chunks', async () => {
    const { run, ended, order } = start({ total: 5000 });
    let ticks = 0;
    const ticker = setInterval(() => {
      ticks += 1;
    }, 0);
    expect(await ended).toBe('completed');
    clearInterval(ticker);
    expect(order).toHaveLength(5000);
    expect(run.counts).toEqual({ succeeded: 5000, errored: 0, canceled: 0, expired: 0 });
    expect(run.outcome(4999)).toEqual({ state: 'succeeded', answer: answerOf(4999) });
    expect(ticks).toBeGreaterThan(0);
  });

  it('spreads lines over the processing time', async () => {
    const started = Date.now();
    const { run, ended } = start({ total: 4, processingMs: 200 });
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(run.processing).toBeGreaterThan(0);
    expect(run.processing).toBeLessThan(4);
    expect(await ended).toBe('completed');
    expect(Date.now() - started).toBeGreaterThanOrEqual(195);
  });

  it('ends canceled at the next turn, leaving unanswered lines canceled', async () => {
    const { run, ended } = start({ total: 10, processingMs: 1000 });
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(run.cancel()).toBe(true);
    expect(await ended).toBe('canceled');
    expect(run.counts.succeeded).toBeGreaterThan(0);
    expect(run.counts.succeeded + run.counts.canceled).toBe(10);
    expect(run.outcome(9)).toEqual({ state: 'canceled' });
    expect(run.cancel()).toBe(false);
  });

  it('answers a line whose step throws with the failed answer, and goes on', async () => {
    const { run, ended } = start({
      total: 3,
      step: (index) => {
        if (index === 1) throw new Error('a bug');
        return { kind: 'answer', answer: answerOf(index) };
      },
    });
    expect(await ended).toBe('completed');
    expect([0, 1, 2].map((index) => run.outcome(index)?.state)).toEqual(['succeeded', 'errored', 'succeeded']);
  });

  it('expires hanging lines, delays "timeout_then_ok" lines and releases "hold" lines with the gate', async () => {
    const held = new HoldGate();
    const steps: Array<(index: number) => LineStep<string>> = [
      (index) => ({ kind: 'answer', answer: answerOf(index, true) }),
      (index) => ({ kind: 'delay', delayMs: 50, answer: () => answerOf(index) }),
      (index) => ({ kind: 'hold', answer: () => answerOf(index) }),
      () => ({ kind: 'hang' }),
    ];
    const { run, ended } = start({
      total: 4,
      expiresInMs: 300,
      held,
      step: (index) => steps[index]?.(index) ?? { kind: 'hang' },
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(held.size).toBe(1);
    expect(run.outcome(1)?.state).toBe('succeeded');
    held.releaseAll();
    expect(await ended).toBe('expired');
    expect([0, 1, 2, 3].map((index) => run.outcome(index)?.state)).toEqual([
      'errored',
      'succeeded',
      'succeeded',
      'expired',
    ]);
  });
});
