/** A `<provider>/<model>` reference, split at the first slash (model ids may contain slashes). */
export interface ModelReference {
  /** Provider name as declared: `openai`, `anthropic`, `google`, or a configured name. */
  provider: string;
  /** The provider's own model id, sent to the provider as is. */
  modelId: string;
}

const PROVIDER_NAME = /^[a-z][a-z0-9_-]{0,63}$/;
// Model ids in the wild: `gpt-4o-mini`, `claude-sonnet-4-5@20250929`, `llama3.2:1b`,
// `meta-llama/Llama-3.1-8B-Instruct`, `models/gemini-2.5-flash`.
const MODEL_ID = /^[A-Za-z0-9][A-Za-z0-9._:@/+-]{0,199}$/;

export type ModelNameParse = { ok: true; reference: ModelReference } | { ok: false; problem: string };

/** Parses `provider/model`; the problem text is written to be shown to the caller. */
export function parseModelName(name: string): ModelNameParse {
  const slash = name.indexOf('/');
  if (slash === -1) {
    return { ok: false, problem: `must be "<provider>/<model>" or a configured alias (got "${name}")` };
  }
  const provider = name.slice(0, slash);
  const modelId = name.slice(slash + 1);
  if (!PROVIDER_NAME.test(provider)) {
    return {
      ok: false,
      problem: `provider "${provider}" is not a valid provider name (lowercase letters, digits, "-" and "_")`,
    };
  }
  if (!MODEL_ID.test(modelId) || modelId.endsWith('/')) {
    return {
      ok: false,
      problem: `model id "${modelId}" is malformed (letters, digits and . _ : @ / + -, at most 200)`,
    };
  }
  return { ok: true, reference: { provider, modelId } };
}

export function formatModelName(reference: ModelReference): string {
  return `${reference.provider}/${reference.modelId}`;
}
