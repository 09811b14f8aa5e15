import { context } from '@opentelemetry/api';
import {
  contextWithTurn,
  currentTurnContext,
  deterministicId,
  ensureContextPropagation,
  turnFromPayload,
  uuidv7,
  uuidv7Time,
} from '../src/index.js';

describe('ids', () => {
  it('makes RFC 9562 v7 ids that sort by creation, even within one millisecond', () => {
    const ids = Array.from({ length: 10_000 }, () => uuidv7());
    expect(ids.every((id) => /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(id))).toBe(
      true,
    );
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('encodes the creation time', () => {
    const now = Date.now() + 60_000;
    expect(uuidv7Time(uuidv7(now))).toBeGreaterThanOrEqual(now);
  });

  it('derives the same id from the same parts, and different ids from different splits', () => {
    expect(deterministicId('turn-1', 3, 'assistant')).toBe('turn-1:3:assistant');
    expect(deterministicId('turn-1', 3, 'assistant')).toBe(deterministicId('turn-1', '3', 'assistant'));
    expect(deterministicId('a:b', 'c')).not.toBe(deterministicId('a', 'b:c'));
    expect(deterministicId('a b')).toMatch(/^h_[0-9a-f]{32}$/);
    expect(() => deterministicId()).toThrow();
  });
});

describe('turn context', () => {
  beforeAll(() => ensureContextPropagation());

  it('reads session and turn ids from a payload', () => {
    expect(turnFromPayload({ session_id: 's1', turn_id: 't1', other: 1 })).toEqual({ session_id: 's1', turn_id: 't1' });
    expect(turnFromPayload({ session_id: 3 })).toEqual({});
    expect(turnFromPayload('x')).toEqual({});
  });

  it('carries the turn as baggage through async work', async () => {
    const seen = await context.with(contextWithTurn({ session_id: 's1', turn_id: 't1' }), async () => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      return currentTurnContext();
    });
    expect(seen).toEqual({ session_id: 's1', turn_id: 't1' });
    expect(currentTurnContext()).toEqual({});
  });
});
