/**
 * The one baggage entry the engine maintains: `iii.function.id` names the function a call is
 * delivered to (the real engine rewrites it per hop), so the SDK's BaggageSpanProcessor stamps
 * each handler's spans with its own function id. A call without baggage gets none added.
 */
const KEY = 'iii.function.id';

export function withFunctionId(baggage: string | undefined, functionId: string): string | undefined {
  if (baggage === undefined || baggage === '') return baggage;
  const entry = `${KEY}=${encodeURIComponent(functionId)}`;
  if (!baggage.includes(KEY)) return `${baggage},${entry}`;
  const kept = baggage.split(',').filter((item) => item.split('=', 1)[0]!.trim() !== KEY);
  kept.push(entry);
  return kept.join(',');
}
