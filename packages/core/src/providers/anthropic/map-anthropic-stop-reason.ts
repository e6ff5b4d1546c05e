import type { FinishReason } from '../chat-completion.js';

/**
 * Anthropic's `stop_reason` as an OpenAI finish reason. `pause_turn` (a server tool paused a long
 * turn; llmq sends no server tools) and a missing reason read as `stop`.
 */
export function mapAnthropicStopReason(reason: string | null | undefined): FinishReason {
  switch (reason) {
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    case 'refusal':
      return 'content_filter';
    default:
      // end_turn, stop_sequence, pause_turn
      return 'stop';
  }
}
