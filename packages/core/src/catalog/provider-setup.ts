import type { LlmqConfig } from '../config/llmq-config-schema.js';
import { anthropicChatRequestProblems } from '../providers/anthropic/anthropic-request-problems.js';
import { createAnthropicProvider } from '../providers/anthropic/anthropic-provider.js';
import { createGoogleProvider } from '../providers/google/google-provider.js';
import { googleChatRequestProblems } from '../providers/google/google-request-problems.js';
import { createOpenAIProvider } from '../providers/openai/openai-provider.js';
import type { Provider } from '../providers/provider.js';
import type { ModelCatalog, ProviderDescriptor } from './model-catalog.js';

/** Credentials and endpoints of the built-in providers, read from the environment by each app. */
export interface BuiltInProviderSettings {
  openai: { apiKey?: string | undefined; baseURL?: string | undefined };
  anthropic: { apiKey?: string | undefined; baseURL?: string | undefined };
  google: { apiKey?: string | undefined; baseURL?: string | undefined };
}

const BUILT_IN: readonly ProviderDescriptor[] = [
  { name: 'openai', kind: 'openai', supportsEmbeddings: true },
  {
    name: 'anthropic',
    kind: 'anthropic',
    supportsEmbeddings: false,
    chatRequestProblems: anthropicChatRequestProblems,
  },
  {
    name: 'google',
    kind: 'google',
    supportsEmbeddings: true,
    chatRequestProblems: googleChatRequestProblems,
    embeddingRequestProblems: (request) =>
      request.user === undefined ? [] : [{ field: 'user', message: 'is not supported' }],
  },
];

/** Providers and aliases of this deployment: what the API validates against. */
export function createModelCatalog(config: LlmqConfig): ModelCatalog {
  const providers = new Map<string, ProviderDescriptor>(BUILT_IN.map((descriptor) => [descriptor.name, descriptor]));
  for (const [name, provider] of Object.entries(config.providers)) {
    providers.set(name, { name, kind: provider.type, supportsEmbeddings: provider.embeddings });
  }
  return { providers, aliases: new Map(Object.entries(config.aliases)) };
}

/** The key of a provider's account in the map `createProviders` returns. */
export function accountProviderKey(provider: string, account: string): string {
  return `${provider}#${account}`;
}

/**
 * The adapters the worker calls: one per provider, and one per account (`accountProviderKey`)
 * of a provider with accounts. `secret` looks up the environment variables that config entries
 * name in `api_key_env`, `secretFile` reads the files named in `api_key_file`; core itself never
 * reads the environment.
 */
export function createProviders(options: {
  config: LlmqConfig;
  builtIn: BuiltInProviderSettings;
  secret: (variable: string) => string | undefined;
  secretFile?: (path: string) => string;
}): Map<string, Provider> {
  const { builtIn, config } = options;
  const build = (name: string, credentials: { apiKey: string | undefined; baseURL: string | undefined }): Provider => {
    switch (name) {
      case 'openai':
        return createOpenAIProvider({ name, ...credentials });
      case 'anthropic':
        return createAnthropicProvider({ ...credentials, defaultMaxTokens: config.anthropic_default_max_tokens });
      case 'google':
        return createGoogleProvider(credentials);
      default: {
        const custom = config.providers[name];
        return createOpenAIProvider({
          name,
          ...credentials,
          ...(custom ? { headers: custom.headers, embeddings: custom.embeddings } : {}),
        });
      }
    }
  };
  const defaults = (name: string) => {
    if (name === 'openai' || name === 'anthropic' || name === 'google') return builtIn[name];
    const custom = config.providers[name];
    return {
      apiKey: custom?.api_key_env ? options.secret(custom.api_key_env) : undefined,
      baseURL: custom?.base_url,
    };
  };
  const providers = new Map<string, Provider>();
  for (const name of ['openai', 'anthropic', 'google', ...Object.keys(config.providers)]) {
    const fallback = defaults(name);
    providers.set(name, build(name, { apiKey: fallback.apiKey, baseURL: fallback.baseURL }));
  }
  for (const [name, accounts] of Object.entries(config.accounts)) {
    const fallback = defaults(name);
    for (const account of accounts) {
      const apiKey = account.api_key_env
        ? options.secret(account.api_key_env)
        : account.api_key_file
          ? options.secretFile?.(account.api_key_file)
          : undefined;
      const adapter = build(name, { apiKey, baseURL: account.base_url ?? fallback.baseURL });
      providers.set(accountProviderKey(name, account.name), adapter);
    }
  }
  return providers;
}
