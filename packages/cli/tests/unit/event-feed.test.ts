import type { AgentEvent } from '@iii-harness/types';
import { EventFeed, type FeedSource, SeqBuffer } from '../../src/chat/event-feed.js';

const event = (seq: number, session = 's1'): AgentEvent => ({
  type: 'turn_state_changed',
  session_id: session,
  turn_id: 't1',
  seq,
  timestamp: seq,
  state: 'assistant_streaming',
});
const seqs = (events: AgentEvent[]) => events.map((e) => e.seq);

describe('SeqBuffer', () => {
  test('hands events out in order, each once', () => {
    const buffer = new SeqBuffer();
    expect(seqs(buffer.push([event(2)]))).toEqual([]);
    expect(buffer.gap).toBe(true);
    expect(seqs(buffer.push([event(1), event(2), event(3)]))).toEqual([1, 2, 3]);
    expect(seqs(buffer.push([event(1), event(3)]))).toEqual([]);
    expect(buffer.gap).toBe(false);
  });

  test('skipGap gives up on a missing event and moves on', () => {
    const buffer = new SeqBuffer(4);
    buffer.push([event(7), event(6)]);
    expect(seqs(buffer.skipGap())).toEqual([6, 7]);
    expect(buffer.lastSeq).toBe(7);
  });
});

/** A stored stream plus a live trigger we fire by hand (as in the engine, an event is stored before it is delivered). */
function fakeSource(stored: AgentEvent[]) {
  let live: ((e: AgentEvent) => void) | undefined;
  const source: FeedSource = {
    follow: (_id, onEvent) => {
      live = onEvent;
      return { stop: () => (live = undefined) };
    },
    list: async () => [...stored],
  };
  const fire = (e: AgentEvent) => {
    if (!stored.some((s) => s.seq === e.seq && s.session_id === e.session_id)) stored.push(e);
    live?.(e);
  };
  return { source, fire, stored };
}

describe('EventFeed', () => {
  afterEach(() => jest.useRealTimers());

  test('what was stored before following and what arrives live overlap: each event once, in order', async () => {
    const { source, fire, stored } = fakeSource([event(1), event(2)]);
    const got: number[] = [];
    const feed = new EventFeed(source, 's1', (events) => got.push(...seqs(events)), 0);
    await feed.start();
    fire(event(2));
    fire(event(3));
    stored.push(event(4)); // written while we were not connected
    await feed.resync(); // e.g. after a reconnect
    fire(event(4));
    expect(got).toEqual([1, 2, 3, 4]);
    feed.stop();
  });

  test('events of earlier turns (at or below fromSeq) and of other sessions are not delivered', async () => {
    const { source, fire } = fakeSource([event(1), event(2), event(3)]);
    const got: number[] = [];
    const feed = new EventFeed(source, 's1', (events) => got.push(...seqs(events)), 2);
    await feed.start();
    fire(event(4, 'other'));
    expect(got).toEqual([3]);
    feed.stop();
  });

  test('a stream that went back (an engine restarted without its data) starts over', async () => {
    const { source, stored } = fakeSource([event(1), event(2), event(3)]);
    const got: number[] = [];
    let resets = 0;
    const feed = new EventFeed(source, 's1', (events) => got.push(...seqs(events)), 0, { onReset: () => resets++ });
    await feed.start();
    stored.splice(0, stored.length, event(1));
    await feed.resync();
    expect(resets).toBe(1);
    expect(got).toEqual([1, 2, 3, 1]);
    feed.stop();
  });

  test('an event that never comes is given up after a while; the ones behind it are delivered', async () => {
    jest.useFakeTimers();
    const { source, fire } = fakeSource([]);
    const got: number[] = [];
    const feed = new EventFeed(source, 's1', (events) => got.push(...seqs(events)), 0, {
      gapCheckMs: 100,
      gapGiveUpMs: 300,
    });
    await feed.start();
    fire(event(1));
    fire(event(3));
    expect(got).toEqual([1]);
    for (let i = 0; i < 5; i++) await jest.advanceTimersByTimeAsync(100);
    expect(got).toEqual([1, 3]);
    feed.stop();
  });

  test('a late event fills the gap before it is given up', async () => {
    jest.useFakeTimers();
    const { source, fire } = fakeSource([]);
    const got: number[] = [];
    const feed = new EventFeed(source, 's1', (events) => got.push(...seqs(events)), 0, {
      gapCheckMs: 100,
      gapGiveUpMs: 1_000,
    });
    await feed.start();
    fire(event(2));
    await jest.advanceTimersByTimeAsync(150);
    fire(event(1));
    expect(got).toEqual([1, 2]);
    feed.stop();
  });
});
