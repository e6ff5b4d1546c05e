import type { ServerResponse } from 'node:http';

/**
 * Requests parked by a "hold" fault until the fault rules next change. Lets a test pause the
 * provider, observe exactly what is waiting (no race against a latency timer), then let it all go.
 */
export class HoldGate {
  private readonly waiting = new Set<() => void>();

  /** Requests parked right now. */
  get size(): number {
    return this.waiting.size;
  }

  /** Resolves true when released, false if the client went away first. */
  wait(response: ServerResponse): Promise<boolean> {
    return new Promise((resolve) => {
      const onClose = (): void => {
        this.waiting.delete(release);
        resolve(false);
      };
      const release = (): void => {
        this.waiting.delete(release);
        response.off('close', onClose);
        resolve(true);
      };
      this.waiting.add(release);
      response.once('close', onClose);
    });
  }

  /** Parks a callback until the next release; returns a function that unparks it unreleased. */
  park(release: () => void): () => void {
    const once = (): void => {
      this.waiting.delete(once);
      release();
    };
    this.waiting.add(once);
    return () => {
      this.waiting.delete(once);
    };
  }

  releaseAll(): void {
    for (const release of [...this.waiting]) release();
  }
}
