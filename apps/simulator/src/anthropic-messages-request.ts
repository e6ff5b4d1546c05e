import type { IncomingHttpHeaders } from 'node:http';
import type { z } from 'zod';
import { anthropicInvalidRequest } from './anthropic-errors.js';
import {
  KNOWN_TOP_LEVEL_FIELDS,
  type MessagesContentBlock,
  type MessagesRequest,
  messagesRequestSchema,
  REMOVED_SAMPLING_FIELDS,
} from './anthropic-messages-schema.js';

/** `anthropic-version` values the simulator serves; the SDK 1.x sends the newer one. */
export const ANTHROPIC_VERSIONS = ['2023-06-01', '2026-10-21'] as const;
export type AnthropicVersion = (typeof ANTHROPIC_VERSIONS)[number];
export const LATEST_ANTHROPIC_VERSION: AnthropicVersion = '2026-10-21';

function isAnthropicVersion(value: string): value is AnthropicVersion {
  return (ANTHROPIC_VERSIONS as readonly string[]).includes(value);
}

/** The request's API version; a 400 when the header is missing or names no version. */
export function readAnthropicVersion(headers: IncomingHttpHeaders): AnthropicVersion {
  const raw = headers['anthropic-version'];
  const value = (Array.isArray(raw) ? raw[0] : raw)?.trim();
  if (value === undefined || value === '') throw anthropicInvalidRequest('anthropic-version: header is required');
  if (!isAnthropicVersion(value)) throw anthropicInvalidRequest(`anthropic-version: "${value}" is not a valid version`);
  return value;
}

/** One conversation turn after the API combines consecutive messages of the same role. */
export interface MessagesTurn {
  role: 'user' | 'assistant';
  blocks: MessagesContentBlock[];
  /** Index in `messages` of the first message of the turn, for error paths. */
  index: number;
}

export interface ParsedMessagesRequest {
  request: MessagesRequest;
  turns: MessagesTurn[];
}

/**
 * For a union ("a string or an array of blocks") the deepest issue of any branch is the one that
 * names the real mistake (`messages.0.content.0.source.media_type`), not "Invalid input".
 */
function deepestIssue(issue: z.core.$ZodIssue): { issue: z.core.$ZodIssue; path: PropertyKey[] } {
  let deepest = { issue, path: issue.path };
  if (issue.code !== 'invalid_union') return deepest;
  for (const branch of issue.errors) {
    for (const nested of branch) {
      const candidate = deepestIssue(nested);
      if (issue.path.length + candidate.path.length > deepest.path.length) {
        deepest = { issue: candidate.issue, path: [...issue.path, ...candidate.path] };
      }
    }
  }
  return deepest;
}

function describeIssue(outerIssue: z.core.$ZodIssue): string {
  const { issue, path: segments } = deepestIssue(outerIssue);
  const path = segments.map(String).join('.');
  const message = issue.code === 'invalid_type' && issue.input === undefined ? 'Field required' : issue.message;
  return path === '' ? message : `${path}: ${message}`;
}

function combineTurns(messages: MessagesRequest['messages']): MessagesTurn[] {
  const turns: MessagesTurn[] = [];
  messages.forEach((message, index) => {
    const blocks: MessagesContentBlock[] =
      typeof message.content === 'string'
        ? message.content === ''
          ? []
          : [{ type: 'text', text: message.content }]
        : message.content;
    const previous = turns.at(-1);
    // "Consecutive user or assistant turns in your request will be combined into a single turn."
    if (previous?.role === message.role) previous.blocks.push(...blocks);
    else turns.push({ role: message.role, blocks: [...blocks], index });
  });
  return turns;
}

function toolUseIds(turn: MessagesTurn | undefined): string[] {
  return (turn?.blocks ?? []).flatMap((block) => (block.type === 'tool_use' ? [block.id] : []));
}

function toolResultIds(turn: MessagesTurn | undefined): string[] {
  return (turn?.blocks ?? []).flatMap((block) => (block.type === 'tool_result' ? [block.tool_use_id] : []));
}

function checkBlocks(turn: MessagesTurn, isLast: boolean): void {
  if (turn.blocks.length === 0 && !(isLast && turn.role === 'assistant')) {
    throw anthropicInvalidRequest(
      `messages.${turn.index}: all messages must have non-empty content except for the optional final assistant message`,
    );
  }
  let sawOtherContent = false;
  for (const block of turn.blocks) {
    if (block.type === 'text' && block.text === '') {
      throw anthropicInvalidRequest('messages: text content blocks must be non-empty');
    }
    if (block.type === 'tool_use' && turn.role !== 'assistant') {
      throw anthropicInvalidRequest(`messages.${turn.index}: tool_use blocks may only appear in assistant messages`);
    }
    if (block.type === 'tool_result') {
      if (turn.role !== 'user') {
        throw anthropicInvalidRequest(`messages.${turn.index}: tool_result blocks may only appear in user messages`);
      }
      if (sawOtherContent) {
        throw anthropicInvalidRequest(
          `messages.${turn.index}: tool_result blocks must come before any other content in the message`,
        );
      }
    } else {
      sawOtherContent = true;
    }
  }
}

/** The conversation rules the API enforces beyond the field types. */
function checkConversation(turns: readonly MessagesTurn[]): void {
  if (turns[0]?.role !== 'user') throw anthropicInvalidRequest('messages: first message must use the "user" role');
  turns.forEach((turn, position) => {
    const isLast = position === turns.length - 1;
    checkBlocks(turn, isLast);
    if (turn.role === 'user') {
      const offered = new Set(toolUseIds(turns[position - 1]));
      const unexpected = toolResultIds(turn).filter((id) => !offered.has(id));
      if (unexpected.length > 0) {
        throw anthropicInvalidRequest(
          `messages.${turn.index}.content: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${unexpected.join(', ')}. Each \`tool_result\` block must have a corresponding \`tool_use\` block in the previous message.`,
        );
      }
    } else if (!isLast) {
      const answered = new Set(toolResultIds(turns[position + 1]));
      const unanswered = toolUseIds(turn).filter((id) => !answered.has(id));
      if (unanswered.length > 0) {
        throw anthropicInvalidRequest(
          `messages.${turns[position + 1]?.index ?? turn.index}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${unanswered.join(', ')}. Each \`tool_use\` block must have a corresponding \`tool_result\` block in the next message.`,
        );
      }
    }
  });
}

function checkToolChoice(request: MessagesRequest): void {
  const choice = request.tool_choice;
  if (choice === undefined || choice.type === 'auto' || choice.type === 'none') return;
  const names = (request.tools ?? []).map((tool) => tool.name);
  if (names.length === 0) throw anthropicInvalidRequest('tool_choice: may only be specified while providing tools');
  if (choice.type === 'tool' && !names.includes(choice.name)) {
    throw anthropicInvalidRequest(`tool_choice.name: tool '${choice.name}' was not found in the provided tools`);
  }
}

/** Validates a Messages body like the API does; throws a `WireError` (400) naming the bad field. */
export function parseMessagesRequest(
  body: unknown,
  version: AnthropicVersion = LATEST_ANTHROPIC_VERSION,
): ParsedMessagesRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw anthropicInvalidRequest('The request body must be a JSON object.');
  }
  const removed: readonly string[] = version === '2023-06-01' ? [] : REMOVED_SAMPLING_FIELDS;
  for (const field of Object.keys(body)) {
    if (!KNOWN_TOP_LEVEL_FIELDS.has(field) || removed.includes(field)) {
      throw anthropicInvalidRequest(`${field}: Extra inputs are not permitted`);
    }
  }
  const parsed = messagesRequestSchema.safeParse(body, { reportInput: true });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw anthropicInvalidRequest(issue === undefined ? 'Invalid request' : describeIssue(issue));
  }
  const request = parsed.data;
  const turns = combineTurns(request.messages);
  checkConversation(turns);
  checkToolChoice(request);
  return { request, turns };
}
