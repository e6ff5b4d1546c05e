import picomatch from 'picomatch';
import type { LlmqConfig, ProviderAccountConfig } from '../config/llmq-config-schema.js';
import { formatModelName, type ModelReference } from '../models/model-name.js';

/**
 * One account's way to one model: which limiter bucket its calls take from (the org's) and which
 * circuit judges its health (the account's own).
 */
export interface AccountRoute {
  /** The account's name: what jobs, metrics and the dashboard show. */
  account: string;
  org: string;
  /** The limiter's name for the org's bucket of the model: `<provider>/<model>#<org>`. */
  bucket: string;
  /** The circuit's name for the account on the model: `<provider>/<model>#<org>/<account>`. */
  circuit: string;
}

/** The marker between a model and an org in limiter names; model ids never contain it. */
const ORG_MARK = '#';

/** `openai/gpt-4o-mini#org-a` → the model and the org; a plain model name has no org. */
export function splitBucketName(name: string): { model: string; org?: string } {
  const mark = name.lastIndexOf(ORG_MARK);
  return mark === -1 ? { model: name } : { model: name.slice(0, mark), org: name.slice(mark + 1) };
}

interface Account {
  config: ProviderAccountConfig;
  org: string;
  serves: (modelId: string) => boolean;
}

/**
 * The accounts of each provider (config `accounts:`) and the rule that picks one per call:
 * prefix stickiness first, then headroom. Pure; the worker reads the buckets.
 */
export class ProviderAccounts {
  readonly sticky: boolean;
  readonly #accounts = new Map<string, Account[]>();
  readonly #routes = new Map<string, AccountRoute[]>();

  constructor(config: Pick<LlmqConfig, 'accounts'> & Partial<Pick<LlmqConfig, 'account_stickiness'>>) {
    this.sticky = config.account_stickiness ?? true;
    for (const [provider, accounts] of Object.entries(config.accounts)) {
      this.#accounts.set(
        provider,
        accounts.map((account) => {
          const patterns = account.models?.map((pattern) => picomatch(pattern, { dot: true }));
          return {
            config: account,
            org: account.org ?? account.name,
            serves: (modelId) => patterns === undefined || patterns.some((matches) => matches(modelId)),
          };
        }),
      );
    }
  }

  /** Whether the provider calls through accounts. */
  has(provider: string): boolean {
    return this.#accounts.has(provider);
  }

  /** The accounts serving the model, in config order; empty for a provider without accounts. */
  routes(reference: ModelReference): readonly AccountRoute[] {
    const model = formatModelName(reference);
    let routes = this.#routes.get(model);
    if (routes === undefined) {
      routes = (this.#accounts.get(reference.provider) ?? [])
        .filter((account) => account.serves(reference.modelId))
        .map(({ config, org }) => ({
          account: config.name,
          org,
          bucket: `${model}${ORG_MARK}${org}`,
          circuit: `${model}${ORG_MARK}${org}/${config.name}`,
        }));
      this.#routes.set(model, routes);
    }
    return routes;
  }

  /** The org's own limit for a model id (its accounts' `limits:`), if any. */
  orgLimit(provider: string, org: string, modelId: string): ProviderAccountConfig['limits'][string] | undefined {
    const limits = (this.#accounts.get(provider) ?? [])
      .filter((account) => account.org === org)
      .flatMap((account) => Object.entries(account.config.limits));
    // An exact name wins over a glob.
    return (
      limits.find(([pattern]) => pattern === modelId)?.[1] ??
      limits.find(([pattern]) => picomatch.isMatch(modelId, pattern, { dot: true }))?.[1]
    );
  }
}

/**
 * Orders routes for a prompt prefix by rendezvous hashing: every worker ranks the accounts the
 * same way for the same prefix, and removing an account moves only the prefixes it had.
 */
export function preferredOrder(routes: readonly AccountRoute[], prefix: string): AccountRoute[] {
  return routes
    .map((route) => ({ route, score: fnv1a(`${prefix}\u0000${route.account}`) }))
    .sort((left, right) => right.score - left.score)
    .map(({ route }) => route);
}

/**
 * 32-bit FNV-1a with MurmurHash3's final mix, so keys that differ only in their last characters
 * still spread evenly; not a security hash.
 */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index += 1) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}
