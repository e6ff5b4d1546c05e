import { resolveModel, type ModelCatalog } from '@llmq/core';

/** One entry of `GET /v1/models`, OpenAI's Model object. */
export interface OpenAiModel {
  id: string;
  object: 'model';
  /** Unix seconds; llmq does not know when a provider made a model: 0. */
  created: number;
  /** The provider's name, or `llmq` for an alias. */
  owned_by: string;
}

const GLOB = /[*?[\]]/;

/**
 * The models this deployment names: its aliases, every model in an alias chain, and every model
 * its `limits` name exactly (a glob names no one model). Sorted by id.
 */
export function listModels(catalog: ModelCatalog, limitedModels: readonly string[]): OpenAiModel[] {
  const models = new Map<string, OpenAiModel>();
  for (const [alias, chain] of catalog.aliases) {
    models.set(alias, { id: alias, object: 'model', created: 0, owned_by: 'llmq' });
    for (const name of chain) {
      const model = describeModel(catalog, name);
      if (model) models.set(model.id, model);
    }
  }
  for (const name of limitedModels) {
    if (GLOB.test(name)) continue;
    const model = describeModel(catalog, name);
    if (model) models.set(model.id, model);
  }
  return [...models.values()].sort((left, right) => left.id.localeCompare(right.id));
}

/**
 * The Model object of any name llmq can route: an alias, or `provider/model` of a known provider
 * (the provider decides whether the model exists when a job runs). Null for anything else.
 */
export function describeModel(catalog: ModelCatalog, id: string): OpenAiModel | null {
  if (catalog.aliases.has(id)) return { id, object: 'model', created: 0, owned_by: 'llmq' };
  const resolution = resolveModel(catalog, id);
  const [reference] = resolution.ok ? resolution.chain : [];
  return reference ? { id, object: 'model', created: 0, owned_by: reference.provider } : null;
}
