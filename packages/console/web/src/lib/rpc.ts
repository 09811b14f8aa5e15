import { signal } from '@preact/signals';
import type { ServerFrame, WireError } from '../../../src/protocol';
import type { CallInput, CallOutput, FnId } from './api';

type Hello = Extract<ServerFrame, { t: 'hello' }>;
type Push = Exclude<ServerFrame, { t: 'reply' } | { t: 'hello' }>;

/** A refused or failed call, with the harness's stable error code. */
export class CallError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly reason?: string,
  ) {
    super(message);
    this.name = 'CallError';
  }
}

export const isCode = (error: unknown, code: string) => error instanceof CallError && error.code === code;

interface Pending {
  resolve(value: unknown): void;
  reject(error: CallError): void;
}

/**
 * The page's one connection: a WebSocket to the console's server, which relays calls to the bus
 * (only the functions on its allowlist) and pushes live events. It reconnects by itself with
 * backoff; listeners hear `open` again and re-read what they show.
 */
export class Rpc {
  readonly state = signal<'connecting' | 'open' | 'closed'>('connecting');
  readonly hello = signal<Hello | null>(null);
  private ws?: WebSocket;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly pushListeners = new Set<(frame: Push) => void>();
  private readonly openListeners = new Set<(hello: Hello) => void>();
  private waiters: Array<() => void> = [];
  private followed: string[] = [];
  private backoff = 250;

  connect(): void {
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const ws = new WebSocket(`${scheme}://${location.host}/ws`);
    this.ws = ws;
    this.state.value = 'connecting';
    ws.onmessage = (message) => this.onFrame(JSON.parse(String(message.data)) as ServerFrame);
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.state.value = 'closed';
      for (const [, p] of this.pending)
        p.reject(new CallError('unavailable', 'the connection to the console was lost'));
      this.pending.clear();
      const delay = this.backoff;
      this.backoff = Math.min(this.backoff * 2, 5_000);
      setTimeout(() => this.connect(), delay);
    };
  }

  private onFrame(frame: ServerFrame): void {
    if (frame.t === 'hello') {
      this.backoff = 250;
      this.state.value = 'open';
      this.hello.value = frame;
      if (this.followed.length) this.send({ t: 'follow', session_ids: this.followed });
      for (const wake of this.waiters.splice(0)) wake();
      for (const listener of this.openListeners) listener(frame);
      return;
    }
    if (frame.t === 'reply') {
      const pending = this.pending.get(frame.id);
      this.pending.delete(frame.id);
      if (!pending) return;
      if (frame.ok) pending.resolve(frame.value);
      else pending.reject(toError(frame.error));
      return;
    }
    if (frame.t === 'engine' && this.hello.value) this.hello.value = { ...this.hello.value, engine: frame.engine };
    if (frame.t === 'features' && this.hello.value)
      this.hello.value = { ...this.hello.value, features: frame.features };
    for (const listener of this.pushListeners) listener(frame);
  }

  private send(frame: unknown): void {
    this.ws?.send(JSON.stringify(frame));
  }

  private async open(): Promise<void> {
    if (this.state.value === 'open') return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new CallError('unavailable', 'not connected to the console')), 15_000);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Call an allowlisted function; rejects with a CallError. */
  async call<K extends FnId>(fn: K, payload: CallInput<K>): Promise<CallOutput<K>> {
    await this.open();
    const id = this.nextId++;
    return new Promise<CallOutput<K>>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.send({ t: 'call', id, fn, payload });
    });
  }

  /** The sessions whose every event this page wants (re-sent after a reconnect). */
  follow(sessionIds: string[]): void {
    this.followed = sessionIds;
    if (this.state.value === 'open') this.send({ t: 'follow', session_ids: sessionIds });
  }

  onPush(listener: (frame: Push) => void): () => void {
    this.pushListeners.add(listener);
    return () => this.pushListeners.delete(listener);
  }

  /** Called on every (re)connection to the console, with its hello. */
  onOpen(listener: (hello: Hello) => void): () => void {
    this.openListeners.add(listener);
    return () => this.openListeners.delete(listener);
  }
}

const toError = (error: WireError) => new CallError(error.code, error.message, error.reason);

export const rpc = new Rpc();
