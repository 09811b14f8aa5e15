import { context, propagation, SpanStatusCode, trace } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import {
  captureTrace,
  contextWithTurn,
  currentTurnContext,
  ensureContextPropagation,
  payloadText,
  REDACTED,
  registerSecret,
  resumeTrace,
  sdkTelemetry,
  TRUNCATED,
  traceFunctionCall,
  withSpan,
  withTrace,
  withTurnBaggage,
} from '../src/index.js';

// A recording tracer provider in this process, as iii-sdk registers one when telemetry is on.
const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const tracer = () => trace.getTracer('test');

beforeAll(() => {
  ensureContextPropagation();
  trace.setGlobalTracerProvider(provider);
});
afterEach(() => {
  exporter.reset();
  delete process.env.IIH_TRACE_PAYLOADS;
  delete process.env.IIH_TRACE_PAYLOAD_MAX_BYTES;
});

const spans = () => exporter.getFinishedSpans();
const named = (name: string): ReadableSpan => {
  const found = spans().find((s) => s.name === name);
  if (!found) throw new Error(`no span ${name} among ${spans().map((s) => s.name)}`);
  return found;
};
const parentOf = (span: ReadableSpan) => span.parentSpanId;

describe('withSpan', () => {
  it('records a span with the outcome; a failure is marked by its code, never its message', async () => {
    await withSpan('demo::ok', { 'iii.function.id': 'demo::ok' }, async () => 1);
    await expect(
      withSpan('demo::bad', {}, async () => {
        throw Object.assign(new Error('key sk-should-not-show'), { code: 'denied' });
      }),
    ).rejects.toThrow('sk-should-not-show');
    expect(named('demo::ok').attributes).toMatchObject({ 'iii.function.id': 'demo::ok', 'iii.outcome': 'ok' });
    const bad = named('demo::bad');
    expect(bad.status).toEqual({ code: SpanStatusCode.ERROR, message: 'denied' });
    expect(bad.attributes).toMatchObject({ 'iii.outcome': 'denied', 'error.type': 'denied' });
    expect(JSON.stringify([bad.attributes, bad.status, bad.events])).not.toContain('sk-should-not-show');
  });

  it("uses iii-sdk's `execute <id>` span of the same function instead of opening a second one", async () => {
    await tracer().startActiveSpan('execute demo::one', async (execute) => {
      await withSpan('demo::one', { 'iii.turn.id': 't1' }, async () => undefined);
      execute.end();
    });
    expect(spans().map((s) => s.name)).toEqual(['execute demo::one']);
    expect(named('execute demo::one').attributes).toMatchObject({ 'iii.turn.id': 't1', 'iii.outcome': 'ok' });
  });

  it('opens a child span under an execute span of another function', async () => {
    await tracer().startActiveSpan('execute demo::outer', async (execute) => {
      await withSpan('demo::inner', {}, async () => undefined);
      execute.end();
    });
    expect(parentOf(named('demo::inner'))).toBe(named('execute demo::outer').spanContext().spanId);
  });
});

describe('trace carriers', () => {
  it('continue a trace later, with its baggage, from nothing but the stored carrier', async () => {
    const carrier = await tracer().startActiveSpan('start', async (span) =>
      withTurnBaggage({ session_id: 's1', turn_id: 't1', message_id: 'm1' }, async () => {
        const captured = captureTrace();
        span.end();
        return captured;
      }),
    );
    expect(carrier?.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(carrier?.baggage).toContain('iii.session.id=s1');
    // Later, in an unrelated trace (a cron job, another process): the work continues the stored one.
    const seen = await tracer().startActiveSpan('unrelated', async (unrelated) => {
      const inside = await withTrace(carrier, async () =>
        tracer().startActiveSpan('resumed', async (span) => {
          span.end();
          return currentTurnContext();
        }),
      );
      unrelated.end();
      return inside;
    });
    expect(seen).toEqual({ session_id: 's1', turn_id: 't1', message_id: 'm1' });
    const resumed = named('resumed');
    expect(resumed.spanContext().traceId).toBe(named('start').spanContext().traceId);
    expect(parentOf(resumed)).toBe(named('start').spanContext().spanId);
  });

  it('run in place without a carrier', async () => {
    await tracer().startActiveSpan('here', async (here) => {
      await withTrace(undefined, async () => tracer().startActiveSpan('child', async (s) => s.end()));
      here.end();
    });
    expect(parentOf(named('child'))).toBe(named('here').spanContext().spanId);
  });

  it('resumeTrace: a span in the stored trace, started in the past, linked to whoever resumed it', async () => {
    const carrier = await tracer().startActiveSpan('hold', async (span) => {
      const captured = captureTrace();
      span.end();
      return captured;
    });
    const heldAt = Date.now() - 60_000;
    await tracer().startActiveSpan('decision', async (decision) => {
      await resumeTrace(carrier, { name: 'approval x', startTime: heldAt }, async () => {
        await tracer().startActiveSpan('wake', async (s) => s.end());
      });
      decision.end();
    });
    const approval = named('approval x');
    expect(approval.spanContext().traceId).toBe(named('hold').spanContext().traceId);
    expect(parentOf(approval)).toBe(named('hold').spanContext().spanId);
    expect(approval.startTime[0]).toBe(Math.floor(heldAt / 1000));
    expect(approval.links.map((l) => l.context.spanId)).toEqual([named('decision').spanContext().spanId]);
    expect(parentOf(named('wake'))).toBe(approval.spanContext().spanId);
  });
});

describe('function call spans', () => {
  const call = { function_id: 'tools::x', function_call_id: 'c1', tool: 'agent_trigger', args: { q: 1 } };

  it('carry ids and outcome, and no payload unless IIH_TRACE_PAYLOADS=1', async () => {
    await traceFunctionCall(call, async () => ({ is_error: false, content: 'secret-ish result' }));
    await traceFunctionCall({ ...call, function_call_id: 'c2' }, async () => ({ is_error: true }));
    const [ok, failed] = spans();
    expect(ok!.name).toBe('execute_tool tools::x');
    expect(ok!.attributes).toMatchObject({
      'iii.function.id': 'tools::x',
      'gen_ai.tool.call.id': 'c1',
      'gen_ai.tool.name': 'agent_trigger',
      'iii.outcome': 'ok',
    });
    expect(Object.keys(ok!.attributes)).not.toContain('gen_ai.tool.call.arguments');
    expect(Object.keys(ok!.attributes)).not.toContain('gen_ai.tool.call.result');
    expect(failed!.status.code).toBe(SpanStatusCode.ERROR);
    expect(failed!.attributes['iii.outcome']).toBe('tool_error');
  });

  it('record arguments and result when enabled: secrets redacted by key and by value, size capped', async () => {
    process.env.IIH_TRACE_PAYLOADS = '1';
    process.env.IIH_TRACE_PAYLOAD_MAX_BYTES = '200';
    registerSecret('tool-secret-value-123');
    await traceFunctionCall(
      { ...call, args: { api_key: 'plain-key-0000', note: 'uses tool-secret-value-123' } },
      async () => ({
        is_error: false,
        text: 'x'.repeat(1000),
      }),
    );
    const { attributes } = named('execute_tool tools::x');
    const args = String(attributes['gen_ai.tool.call.arguments']);
    expect(args).toBe(`{"api_key":"${REDACTED}","note":"uses ${REDACTED}"}`);
    const result = String(attributes['gen_ai.tool.call.result']);
    expect(Buffer.byteLength(result)).toBeLessThanOrEqual(200);
    expect(result.endsWith(TRUNCATED)).toBe(true);
  });
});

describe('payloadText', () => {
  it('redacts secret-named keys inside text that holds JSON (a result as the model sees it)', () => {
    const result = {
      content: [{ type: 'text', text: JSON.stringify({ echoed: { user: 'ada', password: 'pw-in-text-9' } }) }],
    };
    const text = payloadText(result, 10_000);
    expect(text).not.toContain('pw-in-text-9');
    expect(JSON.parse(JSON.parse(text).content[0].text)).toEqual({ echoed: { user: 'ada', password: REDACTED } });
    expect(payloadText({ text: '{not json' }, 1000)).toBe('{"text":"{not json"}');
  });

  it('cuts on a character boundary', () => {
    const text = payloadText({ s: 'é'.repeat(100) }, 40);
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(40);
    expect(text).not.toContain('\uFFFD');
    expect(text.endsWith(TRUNCATED)).toBe(true);
  });
});

describe('sdkTelemetry', () => {
  it("names spans after the worker, keeps the SDK's payload capture and fetch instrumentation off", () => {
    const saved = { ...process.env };
    delete process.env.III_DISABLE_TRACE_PAYLOADS;
    delete process.env.OTEL_SERVICE_NAME;
    try {
      expect(sdkTelemetry({ name: 'harness', version: '1.2.3' })).toEqual({
        serviceName: 'harness',
        serviceVersion: '1.2.3',
        fetchInstrumentationEnabled: false,
      });
      expect(process.env.III_DISABLE_TRACE_PAYLOADS).toBe('true');
      expect(sdkTelemetry({ name: 'harness', enabled: false })).toMatchObject({ enabled: false });
      process.env.OTEL_SERVICE_NAME = 'custom';
      process.env.IIH_TRACE_FETCH = '1';
      expect(sdkTelemetry({ name: 'harness' })).toMatchObject({
        serviceName: 'custom',
        fetchInstrumentationEnabled: true,
      });
    } finally {
      process.env = saved;
    }
  });
});

describe('turn baggage', () => {
  it('uses the names the iii console groups by', () => {
    const bag = propagation.getBaggage(
      contextWithTurn({ session_id: 's', turn_id: 't', message_id: 'm' }, context.active()),
    );
    expect(Object.fromEntries(bag!.getAllEntries().map(([k, v]) => [k, v.value]))).toEqual({
      'iii.session.id': 's',
      'iii.turn.id': 't',
      'iii.message.id': 'm',
    });
  });
});

describe('the installed propagator', () => {
  const headersOf = (ctx: ReturnType<typeof context.active>) => {
    const carrier: Record<string, string> = {};
    propagation.inject(ctx, carrier);
    return carrier;
  };

  it('writes each context its own headers, the same every time it is asked again', async () => {
    const first = contextWithTurn({ session_id: 's1' }, context.active());
    const second = contextWithTurn({ session_id: 's2' }, first);
    expect(headersOf(first)).toEqual({ baggage: 'iii.session.id=s1' });
    expect(headersOf(second)).toEqual({ baggage: 'iii.session.id=s2' });
    expect(headersOf(first)).toEqual({ baggage: 'iii.session.id=s1' });
    await context.with(first, () =>
      tracer().startActiveSpan('demo::headers', async (span) => {
        const inSpan = headersOf(context.active());
        expect(inSpan.traceparent).toContain(span.spanContext().spanId);
        expect(headersOf(context.active())).toEqual(inSpan);
        span.end();
      }),
    );
  });
});
