import type { CallCountingProxy, ProxiedCall } from './call-counting-proxy.js';

/** One SIGKILL: when, and the proxy of the process it hit. */
export interface WorkerKill {
  at: number;
  proxy: CallCountingProxy;
  /** Calls the process had open at the provider at that moment. */
  openAtKill: number;
}

export interface KillAttribution {
  /** Calls beyond the first per job, over every process. */
  extraCalls: number;
  /** Per kill: extra calls explained by what that process held when it died. */
  perKill: number[];
  /** Extra calls no kill explains (a lock that lapsed under load, a bug): should be none. */
  unexplained: Array<{ key: string; startedAt: number; answered: boolean; workerKilled: boolean }>;
}

/**
 * Works out which kill made each repeated call necessary. A job called n times wasted n - 1
 * calls: each but the last must have gone to a process that was killed while the call was open,
 * or within `recordingWindowMs` after its answer arrived (the result not stored yet).
 */
export function attributeExtraCalls(
  proxies: readonly CallCountingProxy[],
  kills: readonly WorkerKill[],
  recordingWindowMs: number,
): KillAttribution {
  const killOf = new Map(kills.map((kill, index) => [kill.proxy, { kill, index }]));
  const byKey = new Map<string, Array<{ call: ProxiedCall; proxy: CallCountingProxy }>>();
  for (const proxy of proxies) {
    for (const call of proxy.calls) byKey.set(call.key, [...(byKey.get(call.key) ?? []), { call, proxy }]);
  }
  const perKill = kills.map(() => 0);
  const unexplained: KillAttribution['unexplained'] = [];
  let extraCalls = 0;
  for (const [key, calls] of byKey) {
    calls.sort((first, second) => first.call.startedAt - second.call.startedAt);
    for (const { call, proxy } of calls.slice(0, -1)) {
      extraCalls += 1;
      const killed = killOf.get(proxy);
      // A call the killed process never got an answer to was dropped by the kill, even when the
      // proxy, busy in the test process, read its request a few milliseconds after the signal.
      const heldAtKill =
        killed !== undefined && (!call.answered || (call.endedAt ?? Infinity) >= killed.kill.at - recordingWindowMs);
      if (killed !== undefined && heldAtKill) perKill[killed.index] = (perKill[killed.index] ?? 0) + 1;
      else
        unexplained.push({
          key,
          startedAt: call.startedAt,
          answered: call.answered,
          workerKilled: killed !== undefined,
        });
    }
  }
  return { extraCalls, perKill, unexplained };
}
