import type { LlmqConfig } from '../config/llmq-config-schema.js';
import { createOpenAIProvider } from '../providers/openai/openai-provider.js';
import type { Provider } from '../providers/provider.js';
import type { ModelCatalog, ProviderDescriptor } from './model-catalog.js';

/** Credentials and endpoints of the built-in providers, read from the environment by each app. */
export interface BuiltInProviderSettings {
  openai: { apiKey?: string | undefined; baseURL?: string | undefined };
}

/** Providers and aliases of this deployment: what the API validates against. */
export function createModelCatalog(config: LlmqConfig): ModelCatalog {
  const providers = new Map<string, ProviderDescriptor>([
    ['openai', { name: 'openai', kind: 'openai', supportsEmbeddings: true }],
  ]);
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
  const providers = new Map<string, Provider>();
  providers.set('openai', createOpenAIProvider({ name: 'openai', ...options.builtIn.openai }));
  for (const [name, provider] of Object.entries(options.config.providers)) {
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
