import { describe, expect, it } from 'vitest';
import { formatModelName, parseModelName } from './model-name.js';

describe('parseModelName', () => {
  it.each([
    ['openai/gpt-4o-mini', 'openai', 'gpt-4o-mini'],
    ['anthropic/claude-sonnet-4-5@20250929', 'anthropic', 'claude-sonnet-4-5@20250929'],
    ['local/meta-llama/Llama-3.1-8B-Instruct', 'local', 'meta-llama/Llama-3.1-8B-Instruct'],
    ['ollama/llama3.2:1b', 'ollama', 'llama3.2:1b'],
    ['google/gemini-2.5-flash', 'google', 'gemini-2.5-flash'],
  ])('splits %s at the first slash', (name, provider, modelId) => {
    const parsed = parseModelName(name);
    expect(parsed).toEqual({ ok: true, reference: { provider, modelId } });
    if (parsed.ok) expect(formatModelName(parsed.reference)).toBe(name);
  });

  it.each([
    ['gpt-4o-mini', 'must be "<provider>/<model>"'],
    ['/gpt-4o', 'provider "" is not a valid provider name'],
    ['OpenAI/gpt-4o', 'provider "OpenAI" is not a valid provider name'],
    ['openai/', 'model id "" is malformed'],
    ['openai/gpt 4o', 'model id "gpt 4o" is malformed'],
    ['openai/-x', 'model id "-x" is malformed'],
    ['local/model/', 'model id "model/" is malformed'],
    [`openai/${'a'.repeat(201)}`, 'is malformed'],
  ])('refuses %s', (name, problem) => {
    const parsed = parseModelName(name);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.problem).toContain(problem);
  });
});
