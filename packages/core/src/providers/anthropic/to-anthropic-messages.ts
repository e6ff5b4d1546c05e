import type Anthropic from '@anthropic-ai/sdk';
import type { RequestProblem } from '../../catalog/model-catalog.js';
import type { ChatMessage } from '../../jobs/chat-request-schema.js';
import { toAnthropicImageSource } from './anthropic-image-source.js';

/** System prompt and turns of an OpenAI conversation, in Anthropic's shape. */
export interface AnthropicConversation {
  /** The leading system and developer messages, one text block each; undefined when none. */
  system: Anthropic.TextBlockParam[] | undefined;
  /** Strictly alternating turns, starting with the user's. */
  messages: Anthropic.MessageParam[];
}

type TextContent = string | ReadonlyArray<{ type: 'text'; text: string }>;
type UserMessage = Extract<ChatMessage, { role: 'user' }>;
type AssistantMessage = Extract<ChatMessage, { role: 'assistant' }>;

interface Turn {
  role: 'user' | 'assistant';
  content: Anthropic.ContentBlockParam[];
}

const NAME_PROBLEM = 'names a participant, which is not supported';
const TOOL_USE_ID = /^[a-zA-Z0-9_-]+$/;

function textBlocks(content: TextContent): Anthropic.TextBlockParam[] {
  const texts = typeof content === 'string' ? [content] : content.map((part) => part.text);
  // Anthropic refuses empty text blocks, and an empty string carries nothing to keep.
  return texts.filter((text) => text !== '').map((text) => ({ type: 'text', text }));
}

function userBlocks(message: UserMessage, field: string, problems: RequestProblem[]): Anthropic.ContentBlockParam[] {
  if (typeof message.content === 'string') return textBlocks(message.content);
  const blocks: Anthropic.ContentBlockParam[] = [];
  message.content.forEach((part, partIndex) => {
    if (part.type === 'text') {
      blocks.push(...textBlocks(part.text));
      return;
    }
    const partField = `${field}.content[${partIndex}].image_url`;
    const detail = part.image_url.detail;
    if (detail !== undefined && detail !== 'auto') {
      problems.push({
        field: `${partField}.detail`,
        message: 'asks for an image detail level, which is not supported',
      });
    }
    const image = toAnthropicImageSource(part.image_url.url);
    if (image.ok) blocks.push({ type: 'image', source: image.source });
    else problems.push({ field: `${partField}.url`, message: image.problem });
  });
  return blocks;
}

/** Tool-call arguments as the object Anthropic takes; undefined when they are not a JSON object. */
function parseArguments(text: string): Record<string, unknown> | undefined {
  // A function without parameters may come back with "" as its arguments: no arguments at all.
  if (text.trim() === '') return {};
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function assistantBlocks(
  message: AssistantMessage,
  field: string,
  problems: RequestProblem[],
): Anthropic.ContentBlockParam[] {
  const blocks: Anthropic.ContentBlockParam[] = textBlocks(message.content ?? '');
  (message.tool_calls ?? []).forEach((call, callIndex) => {
    const callField = `${field}.tool_calls[${callIndex}]`;
    if (!TOOL_USE_ID.test(call.id)) {
      problems.push({
        field: `${callField}.id`,
        message: 'must consist of letters, digits, "_" and "-" only, as required',
      });
    }
    const input = parseArguments(call.function.arguments);
    if (input === undefined) {
      problems.push({
        field: `${callField}.function.arguments`,
        message: 'must be a JSON object, as required',
      });
      return;
    }
    blocks.push({ type: 'tool_use', id: call.id, name: call.function.name, input });
  });
  return blocks;
}

function toolResult(content: TextContent, toolUseId: string): Anthropic.ToolResultBlockParam {
  if (typeof content === 'string') {
    return content === ''
      ? { type: 'tool_result', tool_use_id: toolUseId }
      : { type: 'tool_result', tool_use_id: toolUseId, content };
  }
  return { type: 'tool_result', tool_use_id: toolUseId, content: textBlocks(content) };
}

/** The tool calls of the latest assistant message, and which tool messages answered them. */
interface OpenToolCalls {
  field: string;
  ids: readonly string[];
  answered: Set<string>;
}

function reportUnanswered(open: OpenToolCalls | undefined, problems: RequestProblem[]): void {
  open?.ids.forEach((id, callIndex) => {
    if (!open.answered.has(id)) {
      problems.push({
        field: `${open.field}.tool_calls[${callIndex}]`,
        message: 'needs a tool message answering it before the conversation goes on, as required',
      });
    }
  });
}

/**
 * Translates an OpenAI conversation. Leading system/developer messages become the system prompt;
 * consecutive messages of one role merge into one turn (Anthropic alternates user and assistant);
 * tool messages become `tool_result` blocks of a user turn. What cannot be expressed is pushed to
 * `problems` with its field path.
 */
export function toAnthropicConversation(
  messages: readonly ChatMessage[],
  problems: RequestProblem[],
): AnthropicConversation {
  const system: Anthropic.TextBlockParam[] = [];
  const turns: Turn[] = [];
  let problemsBefore = 0;
  const add = (role: Turn['role'], content: Anthropic.ContentBlockParam[], field: string): void => {
    if (content.length === 0) {
      // A message emptied by its own refused parts needs no second problem.
      if (problems.length > problemsBefore) return;
      problems.push({ field: `${field}.content`, message: 'must not be empty, as required' });
      return;
    }
    const last = turns.at(-1);
    if (last?.role === role) last.content.push(...content);
    else turns.push({ role, content: [...content] });
  };
  let open: OpenToolCalls | undefined;
  let firstTurnField: string | undefined;

  messages.forEach((message, index) => {
    const field = `messages[${index}]`;
    if (message.role !== 'tool') {
      reportUnanswered(open, problems);
      open = undefined;
    }
    if ('name' in message && message.name !== undefined)
      problems.push({ field: `${field}.name`, message: NAME_PROBLEM });
    if (message.role === 'system' || message.role === 'developer') {
      if (firstTurnField === undefined) system.push(...textBlocks(message.content));
      else {
        problems.push({
          field,
          message:
            'is a system or developer message after the conversation started; only leading ones (the one system prompt) are supported',
        });
      }
      return;
    }
    firstTurnField ??= field;
    problemsBefore = problems.length;
    if (message.role === 'user') add('user', userBlocks(message, field, problems), field);
    if (message.role === 'assistant') {
      add('assistant', assistantBlocks(message, field, problems), field);
      const ids = (message.tool_calls ?? []).map((call) => call.id);
      if (ids.length > 0) open = { field, ids, answered: new Set() };
    }
    if (message.role === 'tool') {
      if (open === undefined || !open.ids.includes(message.tool_call_id)) {
        problems.push({
          field: `${field}.tool_call_id`,
          message: 'must answer a tool call of the assistant message right before it, as required',
        });
        return;
      }
      open.answered.add(message.tool_call_id);
      add('user', [toolResult(message.content, message.tool_call_id)], field);
    }
  });
  reportUnanswered(open, problems);

  if (firstTurnField === undefined) {
    problems.push({
      field: 'messages',
      message: 'need a user message besides the system and developer messages, as required',
    });
  } else if (turns[0]?.role === 'assistant') {
    problems.push({
      field: firstTurnField,
      message: 'must be a user message (the conversation opens with the user), as required',
    });
  }
  return {
    system: system.length > 0 ? system : undefined,
    messages: turns.map((turn) => ({ role: turn.role, content: turn.content })),
  };
}
