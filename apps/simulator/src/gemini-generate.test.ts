import { FunctionCallingConfigMode, GoogleGenAI, Type, type GenerateContentParameters } from '@google/genai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningSimulator, startSimulator, TEST_API_KEY } from './__fixtures__/running-simulator.js';
import { simulatedGeminiReply } from './gemini-reply.js';
import { simulatedChatReply } from './openai-chat-request.js';

let running: RunningSimulator;
let gemini: GoogleGenAI;
beforeAll(async () => {
  running = await startSimulator();
  gemini = new GoogleGenAI({
    apiKey: TEST_API_KEY,
    vertexai: false,
    httpOptions: { baseUrl: running.url, retryOptions: { attempts: 1 } },
  });
});
afterAll(() => running.close());

const MODEL = 'gemini-2.5-flash';
const plain: GenerateContentParameters = {
  model: MODEL,
  contents: [{ role: 'user', parts: [{ text: 'Summarise the plot of Hamlet in one sentence, please.' }] }],
  config: { systemInstruction: 'You are terse.', temperature: 0.2 },
};
/** The body the SDK sends for `plain`, for the pure reply function. */
const plainBody = {
  contents: [{ role: 'user', parts: [{ text: 'Summarise the plot of Hamlet in one sentence, please.' }] }],
  systemInstruction: { role: 'user', parts: [{ text: 'You are terse.' }] },
  generationConfig: { temperature: 0.2 },
};

describe('POST /v1beta/models/{model}:generateContent through @google/genai', () => {
  it('answers the deterministic reply that simulatedGeminiReply recomputes', async () => {
    const response = await gemini.models.generateContent(plain);
    const expected = simulatedGeminiReply(MODEL, plainBody);
    expect(response.text).toBe(expected.content);
    expect(response.candidates?.[0]?.finishReason).toBe('STOP');
    expect(response.modelVersion).toBe(MODEL);
    expect(response.usageMetadata).toMatchObject({
      promptTokenCount: expected.promptTokens,
      candidatesTokenCount: expected.completionTokens,
      totalTokenCount: expected.promptTokens + expected.completionTokens,
    });
    const again = await gemini.models.generateContent(plain);
    expect(again.responseId).toBe(response.responseId);
  });

  it('gives a conversation the same reply and prompt count as the OpenAI wire format', () => {
    const gemini = simulatedGeminiReply(MODEL, plainBody);
    const openai = simulatedChatReply({
      model: MODEL,
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'user', content: 'Summarise the plot of Hamlet in one sentence, please.' },
      ],
      temperature: 0.2,
    });
    expect(gemini).toEqual(openai);
  });

  it('streams as SSE chunks that join to the plain answer, usage and finish reason last', async () => {
    const stream = await gemini.models.generateContentStream({
      ...plain,
      config: { ...plain.config, automaticContinuation: false },
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    const expected = simulatedGeminiReply(MODEL, plainBody);
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.map((chunk) => chunk.text ?? '').join('')).toBe(expected.content);
    expect(chunks.slice(0, -1).every((chunk) => chunk.candidates?.[0]?.finishReason === undefined)).toBe(true);
    expect(chunks.at(-1)?.candidates?.[0]?.finishReason).toBe('STOP');
    expect(chunks.at(-1)?.usageMetadata?.candidatesTokenCount).toBe(expected.completionTokens);
  });

  it('cuts at maxOutputTokens with MAX_TOKENS', async () => {
    const response = await gemini.models.generateContent({ ...plain, config: { maxOutputTokens: 3 } });
    expect(response.candidates?.[0]?.finishReason).toBe('MAX_TOKENS');
    expect(response.usageMetadata?.candidatesTokenCount).toBe(3);
  });

  it('calls a declared function with schema-shaped args when mode is ANY', async () => {
    const response = await gemini.models.generateContent({
      model: MODEL,
      contents: 'What is the weather in Oslo?',
      config: {
        tools: [
          {
            functionDeclarations: [
              {
                name: 'get_weather',
                parametersJsonSchema: {
                  type: 'object',
                  required: ['city'],
                  properties: { city: { type: 'string' } },
                },
              },
            ],
          },
        ],
        toolConfig: {
          functionCallingConfig: { mode: FunctionCallingConfigMode.ANY, allowedFunctionNames: ['get_weather'] },
        },
      },
    });
    expect(response.functionCalls).toEqual([{ name: 'get_weather', args: { city: 'simulated' } }]);
    expect(response.candidates?.[0]?.finishReason).toBe('STOP');
  });

  it('answers schema-shaped JSON for responseJsonSchema and for an OpenAPI responseSchema', async () => {
    const jsonSchema = {
      type: 'object',
      required: ['name', 'age'],
      properties: { name: { type: 'string' }, age: { type: 'integer', minimum: 1 } },
    };
    const fromJsonSchema = await gemini.models.generateContent({
      ...plain,
      config: { responseMimeType: 'application/json', responseJsonSchema: jsonSchema },
    });
    expect(JSON.parse(fromJsonSchema.text ?? '')).toEqual({ name: 'simulated', age: 1 });
    const fromSchema = await gemini.models.generateContent({
      ...plain,
      config: {
        responseMimeType: 'application/json',
        responseSchema: { type: Type.OBJECT, required: ['ok'], properties: { ok: { type: Type.BOOLEAN } } },
      },
    });
    expect(JSON.parse(fromSchema.text ?? '')).toEqual({ ok: true });
    const plainJson = await gemini.models.generateContent({
      ...plain,
      config: { responseMimeType: 'application/json' },
    });
    expect(JSON.parse(plainJson.text ?? '')).toHaveProperty('reply');
  });

  it('counts requests and tokens by model, like the OpenAI endpoints', async () => {
    running.simulator.reset();
    await gemini.models.generateContent(plain);
    const stats = running.simulator.stats();
    expect(stats.requests.byModel[MODEL]).toBe(1);
    expect(stats.requests.byPath[`/v1beta/models/${MODEL}:generateContent`]).toBe(1);
    expect(stats.tokens.prompt).toBe(simulatedGeminiReply(MODEL, plainBody).promptTokens);
  });
});
