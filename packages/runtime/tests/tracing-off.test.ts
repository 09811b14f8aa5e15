import { context, trace } from '@opentelemetry/api';
import { AlwaysOffSampler, BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { captureTrace, contextWithTurn, ensureContextPropagation, inChildSpan, withSpan } from '../src/index.js';

// Spans that record nothing: first with no tracer installed at all (telemetry off), then with one
// that samples every span out. In the first case a span changes nothing, so it is skipped; in the
// second it still carries its own trace context to the calls made inside it.
beforeAll(() => ensureContextPropagation());

describe('with no tracer installed', () => {
  it('runs the work in the context it was called from, results and errors unchanged', async () => {
    const outer = contextWithTurn({ session_id: 's1' });
    await context.with(outer, async () => {
      expect(await withSpan('demo::f', {}, async () => context.active())).toBe(outer);
      expect(await inChildSpan({ name: 'step' }, async () => context.active())).toBe(outer);
      await expect(
        withSpan('demo::f', {}, async () => {
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
    });
  });
});

describe('with a tracer that samples every span out', () => {
  it('still makes each span the parent of the calls made inside it', async () => {
    trace.setGlobalTracerProvider(new BasicTracerProvider({ sampler: new AlwaysOffSampler() }));
    const outer = await withSpan('demo::outer', {}, async () => captureTrace());
    const inner = await withSpan('demo::outer', {}, () =>
      withSpan('demo::inner', {}, async () => ({ here: captureTrace(), span: trace.getActiveSpan()?.spanContext() })),
    );
    expect(outer?.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
    expect(inner.here?.traceparent).toContain(inner.span!.spanId);
    const child = await inChildSpan({ name: 'step' }, async () => captureTrace());
    expect(child?.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
  });
});
