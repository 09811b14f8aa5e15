import type { StreamOutcome } from '@iii-harness/provider-kit';

/**
 * Anthropic's `stop_reason` in our terms. The vendor string is kept as `raw_stop_reason`
 * whenever the mapping loses information (stop sequences, refusals, paused turns, new values).
 */
export function mapStopReason(raw: string | null | undefined): StreamOutcome {
  switch (raw) {
    case 'end_turn':
      return { stop_reason: 'end' };
    case 'max_tokens':
      return { stop_reason: 'length' };
    case 'tool_use':
      return { stop_reason: 'function_call' };
    case 'stop_sequence':
      return { stop_reason: 'end', raw_stop_reason: raw };
    case 'model_context_window_exceeded':
      return { stop_reason: 'length', raw_stop_reason: raw };
    case 'refusal':
      return { stop_reason: 'refusal' };
    case null:
    case undefined:
      return { stop_reason: 'other', raw_stop_reason: 'none' };
    default:
      // pause_turn, and whatever Anthropic adds next
      return { stop_reason: 'other', raw_stop_reason: raw };
  }
}
