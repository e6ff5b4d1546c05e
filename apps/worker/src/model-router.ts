import {
  accountProviderKey,
  ProviderError,
  resolveModel,
  type ChatModel,
  type EmbeddingModel,
  type ModelCatalog,
  type ModelReference,
  type Provider,
} from '@llmq/core';

/** Turns model names into adapter instances, built once per model and reused. */
export class ModelRouter {
  readonly #catalog: ModelCatalog;
  readonly #providers: ReadonlyMap<string, Provider>;
  readonly #chatModels = new Map<string, ChatModel>();
  readonly #embeddingModels = new Map<string, EmbeddingModel>();

  constructor(options: { catalog: ModelCatalog; providers: ReadonlyMap<string, Provider> }) {
    this.#catalog = options.catalog;
    this.#providers = options.providers;
  }

  /** The concrete models a job may use, in order: its model (or alias chain), then its fallbacks. */
  chain(model: string, fallbacks: readonly string[] = []): ModelReference[] {
    const chain: ModelReference[] = [];
    for (const name of [model, ...fallbacks]) {
      const resolution = resolveModel(this.#catalog, name);
      if (!resolution.ok) {
        throw new ProviderError({
          provider: 'llmq',
          kind: 'invalid_request',
          message: `${name}: ${resolution.problem}`,
        });
      }
      chain.push(...resolution.chain);
    }
    return chain;
  }

  /** The model's adapter; through one of its provider's accounts when `account` is given. */
  chatModel(reference: ModelReference, account?: string): ChatModel {
    const key = `${reference.provider}/${reference.modelId}#${account ?? ''}`;
    let model = this.#chatModels.get(key);
    if (model === undefined) {
      model = this.#provider(reference, account).chatModel(reference.modelId);
      this.#chatModels.set(key, model);
    }
    return model;
  }

  embeddingModel(reference: ModelReference, account?: string): EmbeddingModel {
    const key = `${reference.provider}/${reference.modelId}#${account ?? ''}`;
    let model = this.#embeddingModels.get(key);
    if (model === undefined) {
      const provider = this.#provider(reference, account);
      if (provider.embeddingModel === undefined) {
        throw new ProviderError({
          provider: provider.name,
          kind: 'invalid_request',
          message: `provider "${provider.name}" does not serve embedding jobs`,
        });
      }
      model = provider.embeddingModel(reference.modelId);
      this.#embeddingModels.set(key, model);
    }
    return model;
  }

  #provider(reference: ModelReference, account?: string): Provider {
    const key = account === undefined ? reference.provider : accountProviderKey(reference.provider, account);
    const provider = this.#providers.get(key);
    if (provider === undefined) {
      throw new ProviderError({
        provider: reference.provider,
        kind: 'invalid_request',
        message: `provider "${reference.provider}"${account === undefined ? '' : ` account "${account}"`} is not configured on this worker`,
      });
    }
    return provider;
  }
}
