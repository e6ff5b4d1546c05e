import type { Content, Part } from '@google/genai';
import type { RequestProblem } from '../../catalog/model-catalog.js';
import type { ChatMessage } from '../../jobs/chat-request-schema.js';

/**
 * OpenAI-shaped messages -> Gemini `contents` plus the `systemInstruction`. Everything Gemini
 * cannot take is reported in `problems` (the same list the catalog refuses at submit time), so
 * nothing is dropped on the way.
 */

/**
 * Gemini 3 refuses a replayed `functionCall` part without the `thoughtSignature` it was answered
 * with, and an OpenAI-shaped history cannot carry one; Google documents this value for history
 * that comes from elsewhere. Older models ignore it.
 */
export const SKIP_THOUGHT_SIGNATURE = 'skip_thought_signature_validator';

const NAME_PROBLEM = 'is not supported: Gemini messages carry no participant name';

/** Image types Gemini takes from a URL, by file extension (`fileData` needs the MIME type). */
const IMAGE_TYPES_BY_EXTENSION: Readonly<Record<string, string>> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  gif: 'image/gif',
  heic: 'image/heic',
  heif: 'image/heif',
};

type TextContent = string | ReadonlyArray<{ type: 'text'; text: string }>;
type UserContent = Extract<ChatMessage, { role: 'user' }>['content'];

export interface GoogleContents {
  systemInstruction: Content | undefined;
  contents: Content[];
}

function textOf(content: TextContent): string {
  return typeof content === 'string' ? content : content.map((part) => part.text).join('');
}

function textParts(content: TextContent): Part[] {
  // Gemini refuses empty text parts ("empty text parameter").
  const texts = typeof content === 'string' ? [content] : content.map((part) => part.text);
  return texts.filter((text) => text !== '').map((text) => ({ text }));
}

function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

const DATA_URL = /^data:(image\/[A-Za-z0-9.+-]+);base64,([A-Za-z0-9+/=\s]*)$/;

function urlPath(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return '';
  }
}

function imagePart(url: string, field: string, problems: RequestProblem[]): Part | undefined {
  if (url.startsWith('data:')) {
    const match = DATA_URL.exec(url);
    if (match?.[1] === undefined || match[2] === undefined) {
      problems.push({ field, message: 'must be a base64 data URL (data:image/<type>;base64,<data>) for Gemini' });
      return undefined;
    }
    return { inlineData: { mimeType: match[1], data: match[2].replace(/\s/g, '') } };
  }
  // Gemini fetches public and signed https URLs itself (Gemini 2.0 models excepted), given the type.
  const extension = /\.([A-Za-z0-9]+)$/.exec(urlPath(url))?.[1]?.toLowerCase();
  const mimeType = extension === undefined ? undefined : IMAGE_TYPES_BY_EXTENSION[extension];
  if (mimeType === undefined) {
    problems.push({
      field,
      message:
        'has no file extension naming an image type Gemini takes from URLs (.png, .jpg, .jpeg, .webp, .gif, .heic, .heif): send the image as a data:image/<type>;base64 URL instead',
    });
    return undefined;
  }
  return { fileData: { fileUri: url, mimeType } };
}

function userParts(content: UserContent, field: string, problems: RequestProblem[]): Part[] {
  if (typeof content === 'string') return textParts(content);
  const parts: Part[] = [];
  content.forEach((part, index) => {
    const partField = `${field}.content[${index}]`;
    if (part.type === 'text') {
      parts.push(...textParts(part.text));
      return;
    }
    if (part.image_url.detail !== undefined && part.image_url.detail !== 'auto') {
      problems.push({
        field: `${partField}.image_url.detail`,
        message: 'is not supported: Gemini takes no per-image detail (only "auto")',
      });
    }
    const image = imagePart(part.image_url.url, `${partField}.image_url.url`, problems);
    if (image) parts.push(image);
  });
  return parts;
}

type AssistantMessage = Extract<ChatMessage, { role: 'assistant' }>;

/** Text and `functionCall` parts of an assistant turn; records each call's function name by id. */
function assistantParts(
  message: AssistantMessage,
  field: string,
  functionNames: Map<string, string>,
  problems: RequestProblem[],
): Part[] {
  const parts = message.content == null ? [] : textParts(message.content);
  message.tool_calls?.forEach((call, callIndex) => {
    functionNames.set(call.id, call.function.name);
    const text = call.function.arguments.trim();
    // OpenAI-compatible servers send "" for a call without arguments.
    const parsed = text === '' ? { ok: true as const, value: {} } : parseJson(text);
    if (!parsed.ok || !isJsonObject(parsed.value)) {
      problems.push({
        field: `${field}.tool_calls[${callIndex}].function.arguments`,
        message: 'must be a JSON object for Gemini (functionCall.args)',
      });
      return;
    }
    const functionCall: Part = { functionCall: { name: call.function.name, args: parsed.value } };
    // One signature per model turn, on its first call, as Gemini itself answers.
    parts.push(callIndex === 0 ? { ...functionCall, thoughtSignature: SKIP_THOUGHT_SIGNATURE } : functionCall);
  });
  return parts;
}

/** Translates the messages; `problems` collects what Gemini cannot honour. */
export function toGoogleContents(messages: readonly ChatMessage[], problems: RequestProblem[]): GoogleContents {
  const systemParts: Part[] = [];
  const contents: Content[] = [];
  /** Function names by tool call id, as the assistant messages so far named them (latest wins). */
  const functionNames = new Map<string, string>();
  let toolResults: Content | undefined;
  let problemsBefore = 0;
  const push = (content: Content, field: string): void => {
    // A message emptied by its own problems needs no second report.
    if ((content.parts ?? []).length === 0 && problems.length === problemsBefore) {
      problems.push({ field, message: 'has no content Gemini can take (Gemini refuses empty text)' });
    }
    contents.push(content);
  };

  messages.forEach((message, index) => {
    const field = `messages[${index}]`;
    problemsBefore = problems.length;
    if (message.role !== 'tool') toolResults = undefined;
    if ('name' in message && message.name !== undefined) {
      problems.push({ field: `${field}.name`, message: NAME_PROBLEM });
    }
    switch (message.role) {
      case 'system':
      case 'developer':
        if (contents.length > 0) {
          problems.push({
            field,
            message:
              'is not supported after the conversation started: Gemini takes one system instruction, so put system and developer messages first',
          });
        }
        systemParts.push(...textParts(message.content));
        return;
      case 'user':
        push({ role: 'user', parts: userParts(message.content, field, problems) }, field);
        return;
      case 'assistant':
        push({ role: 'model', parts: assistantParts(message, field, functionNames, problems) }, field);
        return;
      case 'tool': {
        const name = functionNames.get(message.tool_call_id);
        if (name === undefined) {
          problems.push({
            field: `${field}.tool_call_id`,
            message: 'matches no tool call of an earlier assistant message: Gemini needs the function name',
          });
          return;
        }
        const text = textOf(message.content);
        const parsed = parseJson(text);
        const response = parsed.ok && isJsonObject(parsed.value) ? parsed.value : { content: text };
        const part: Part = { functionResponse: { name, response } };
        // Consecutive tool results answer one model turn: Gemini wants them in one user turn.
        if (toolResults?.parts) {
          toolResults.parts.push(part);
        } else {
          toolResults = { role: 'user', parts: [part] };
          contents.push(toolResults);
        }
        return;
      }
    }
  });

  if (contents.length === 0) {
    problems.push({
      field: 'messages',
      message: 'needs a user, assistant or tool message: Gemini does not answer a system instruction alone',
    });
  }
  return {
    systemInstruction: systemParts.length > 0 ? { parts: systemParts } : undefined,
    contents,
  };
}
