import { z } from 'zod';

/**
 * A span's W3C trace context, kept with work that outlives the call that started it (a turn, an
 * approval hold), so whoever carries the work on later — after a restart too — continues the
 * same trace: `traceparent` names the parent span, `baggage` the entries every hop carries.
 */
export const traceCarrier = z.object({
  traceparent: z.string().min(1).max(256),
  /** W3C caps baggage at 8192 bytes. */
  baggage: z.string().max(8192).optional(),
});
export type TraceCarrier = z.output<typeof traceCarrier>;
