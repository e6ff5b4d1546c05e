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

/**
 * The adapters the worker calls. `secret` looks up the environment variables that config
 * entries name in `api_key_env`; core itself never reads the environment.
 */
export function createProviders(options: {
  config: LlmqConfig;
  builtIn: BuiltInProviderSettings;
  secret: (variable: string) => string | undefined;
}): Map<string, Provider> {
  const { builtIn, config } = options;
  const providers = new Map<string, Provider>([
    ['openai', createOpenAIProvider({ name: 'openai', ...builtIn.openai })],
    [
      'anthropic',
      createAnthropicProvider({ ...builtIn.anthropic, defaultMaxTokens: config.anthropic_default_max_tokens }),
    ],
    ['google', createGoogleProvider(builtIn.google)],
  ]);
  for (const [name, provider] of Object.entries(config.providers)) {
    providers.set(
      name,
      createOpenAIProvider({
        name,
        apiKey: provider.api_key_env ? options.secret(provider.api_key_env) : undefined,
        baseURL: provider.base_url,
        headers: provider.headers,
        embeddings: provider.embeddings,
      }),
    );
  }
  return providers;
}
