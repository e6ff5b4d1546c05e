import type { ChatRequest } from '../jobs/chat-request-schema.js';
import type { EmbeddingRequest } from '../jobs/embedding-request-schema.js';
import { parseModelName, type ModelReference } from '../models/model-name.js';

/** How llmq talks to a provider. */
export type ProviderKind = 'openai' | 'openai-compatible' | 'anthropic' | 'google';

/** A request field a provider cannot honour; `field` is relative to `request` (`seed`, `messages[2].content[0]`). */
export interface RequestProblem {
  field: string;
  message: string;
}

/** What the job catalog needs to know about a provider to validate a job at submit time. */
export interface ProviderDescriptor {
  /** The name used in model references, e.g. `openai` in `openai/gpt-4o-mini`. */
  name: string;
  kind: ProviderKind;
  /** Whether the provider serves embedding jobs. */
  supportsEmbeddings: boolean;
  /** Fields of a chat request this provider cannot honour; none when absent. */
  chatRequestProblems?: (request: ChatRequest) => RequestProblem[];
  /** Fields of an embedding request this provider cannot honour; none when absent. */
  embeddingRequestProblems?: (request: EmbeddingRequest) => RequestProblem[];
}

/** Providers and aliases known to this deployment; built from the config file by each app. */
export interface ModelCatalog {
  providers: ReadonlyMap<string, ProviderDescriptor>;
  /** Alias name -> ordered model references (a fallback chain). */
  aliases: ReadonlyMap<string, readonly string[]>;
}

export type ModelResolution = { ok: true; chain: ModelReference[] } | { ok: false; problem: string };

/**
 * Resolves a model field (`provider/model` or an alias) into the chain of concrete models it
 * names, checking every provider exists.
 */
export function resolveModel(catalog: ModelCatalog, name: string): ModelResolution {
  const alias = catalog.aliases.get(name);
  const names = alias ?? [name];
  const chain: ModelReference[] = [];
  for (const entry of names) {
    const parsed = parseModelName(entry);
    if (!parsed.ok) return { ok: false, problem: parsed.problem };
    if (!catalog.providers.has(parsed.reference.provider)) {
      const known = [...catalog.providers.keys()].sort().join(', ');
      return {
        ok: false,
        problem: `unknown provider "${parsed.reference.provider}" (known: ${known}${
          catalog.aliases.size > 0 ? `; aliases: ${[...catalog.aliases.keys()].sort().join(', ')}` : ''
        })`,
      };
    }
    chain.push(parsed.reference);
  }
  return { ok: true, chain };
}
