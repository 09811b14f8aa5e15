/**
 * JSON nesting limit. V8 parses very deep JSON without trouble but cannot serialize it again
 * (`JSON.stringify` overflows the stack around depth 10,000), so a deep payload that is accepted
 * would later fail wherever it is forwarded. The real engine's serde_json stops at depth 128;
 * the dev engine checks parsed values against the same limit, once, where they enter.
 */

/** True when `value` nests arrays/objects deeper than `max` levels (a scalar is depth 0). */
export function exceedsDepth(value: unknown, max: number): boolean {
  return nested(value, max + 1);
}

/** True when `value` contains `budget` or more levels of nesting. */
function nested(value: unknown, budget: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (budget <= 1) return true;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (nested(value[i], budget - 1)) return true;
    return false;
  }
  for (const key in value) if (nested((value as Record<string, unknown>)[key], budget - 1)) return true;
  return false;
}

/** The message every depth refusal carries. */
export function depthMessage(what: string, max: number): string {
  return `${what} rejected: JSON nested deeper than ${max} levels`;
}
