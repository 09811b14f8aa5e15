/**
 * Data channels: one-way pipes between a writer and a reader, each end taken once over
 * `ws://<engine>/ws/channels/<id>?key=<access_key>&dir=read|write` (or in-process, for the HTTP
 * trigger's request and response bodies). Text frames are "messages", binary frames are data.
 * When the writer closes, the engine waits 10 ms, then closes the reader. Channels no end has
 * connected to are swept after 5 minutes.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { WebSocket } from 'ws';
import type { EngineApi } from '../engine-api.js';
import { objectInput, optionalInteger } from './input.js';

const CHANNEL_TTL_MS = 5 * 60_000;
const WRITER_CLOSE_DRAIN_MS = 10;
/** Pause a WS writer while its reader socket has this much unsent data (a stand-in for the bounded mpsc). */
const READER_HIGH_WATER_BYTES = 4 * 1024 * 1024;

export interface ChannelRef {
  channel_id: string;
  access_key: string;
  direction: 'read' | 'write';
}

/** Where a channel delivers its items. */
export interface ChannelReaderSink {
  item(isBinary: boolean, payload: Buffer | string): void;
  end(): void;
}

export class DataChannel {
  readonly createdAtMs = Date.now();
  writerTaken = false;
  readerTaken = false;
  private queue: Array<[boolean, Buffer | string]> = [];
  private sink: ChannelReaderSink | undefined;
  private writerEnded = false;
  private readerGone = false;
  /** Called when a paused writer may continue. */
  onWritable: (() => void) | undefined;

  constructor(
    readonly id: string,
    readonly accessKey: string,
    readonly bufferSize: number,
    private readonly onFinished: (channel: DataChannel) => void,
  ) {}

  /** Push one item from the writer; returns false when the writer should pause. */
  push(isBinary: boolean, payload: Buffer | string): boolean {
    if (this.readerGone || this.writerEnded) return true;
    if (this.sink) {
      this.sink.item(isBinary, payload);
      return true;
    }
    this.queue.push([isBinary, payload]);
    return this.queue.length < this.bufferSize;
  }

  /** The writer is done (closed its socket, or the in-process writer finished). */
  endWriter(): void {
    if (this.writerEnded) return;
    this.writerEnded = true;
    const sink = this.sink;
    if (sink) {
      const t = setTimeout(() => {
        sink.end();
        this.onFinished(this);
      }, WRITER_CLOSE_DRAIN_MS);
      t.unref();
    }
  }

  attachReader(sink: ChannelReaderSink): void {
    this.sink = sink;
    const queued = this.queue;
    this.queue = [];
    for (const [isBinary, payload] of queued) sink.item(isBinary, payload);
    this.onWritable?.();
    if (this.writerEnded) {
      const t = setTimeout(() => {
        sink.end();
        this.onFinished(this);
      }, WRITER_CLOSE_DRAIN_MS);
      t.unref();
    }
  }

  /** The reader went away: later items are dropped. */
  detachReader(): void {
    this.readerGone = true;
    this.sink = undefined;
    this.queue = [];
    this.onWritable?.();
    if (this.writerEnded) this.onFinished(this);
  }
}

export class ChannelManager {
  private readonly channels = new Map<string, DataChannel>();
  private readonly sweeper: NodeJS.Timeout;

  constructor() {
    this.sweeper = setInterval(() => this.sweep(), 30_000);
    this.sweeper.unref();
  }

  create(bufferSize = 64): { writer: ChannelRef; reader: ChannelRef; channel: DataChannel } {
    const id = randomUUID();
    const key = randomBytes(24).toString('base64url');
    const channel = new DataChannel(id, key, Math.max(1, Math.min(bufferSize, 1024)), (c) =>
      this.channels.delete(c.id),
    );
    this.channels.set(id, channel);
    return {
      channel,
      writer: { channel_id: id, access_key: key, direction: 'write' },
      reader: { channel_id: id, access_key: key, direction: 'read' },
    };
  }

  /** The channel for a WS upgrade, or undefined (-> HTTP 404) on an unknown id or a wrong key. */
  lookup(id: string, key: string): DataChannel | undefined {
    const channel = this.channels.get(id);
    return channel && channel.accessKey === key ? channel : undefined;
  }

  remove(id: string): void {
    this.channels.delete(id);
  }

  get size(): number {
    return this.channels.size;
  }

  close(): void {
    clearInterval(this.sweeper);
    this.channels.clear();
  }

  /** Drop channels nobody connected to within the TTL. */
  sweep(now = Date.now()): void {
    for (const [id, c] of this.channels)
      if (!c.writerTaken && !c.readerTaken && now - c.createdAtMs > CHANNEL_TTL_MS) this.channels.delete(id);
  }
}

/** Attach an accepted WS to one end of a channel. A second connection to a taken end is closed at once. */
export function attachChannelSocket(channel: DataChannel, ws: WebSocket, dir: 'read' | 'write'): void {
  ws.on('error', () => undefined);
  if (dir === 'write') {
    if (channel.writerTaken) return void ws.close(1008, 'channel writer already connected');
    channel.writerTaken = true;
    channel.onWritable = () => ws.isPaused && ws.resume();
    ws.on('message', (data, isBinary) => {
      const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
      if (!channel.push(isBinary, isBinary ? buf : buf.toString('utf8'))) ws.pause();
    });
    ws.on('close', () => channel.endWriter());
    return;
  }
  if (channel.readerTaken) return void ws.close(1008, 'channel reader already connected');
  channel.readerTaken = true;
  channel.attachReader({
    item: (isBinary, payload) => {
      ws.send(payload, { binary: isBinary });
      if (ws.bufferedAmount > READER_HIGH_WATER_BYTES) throttleUntilDrained(ws, channel);
    },
    end: () => ws.close(1000, 'channel closed'),
  });
  ws.on('close', () => channel.detachReader());
}

function throttleUntilDrained(reader: WebSocket, channel: DataChannel): void {
  const resume = channel.onWritable;
  channel.onWritable = undefined;
  const check = setInterval(() => {
    if (reader.bufferedAmount <= READER_HIGH_WATER_BYTES / 2 || reader.readyState !== reader.OPEN) {
      clearInterval(check);
      channel.onWritable = resume;
      resume?.();
    }
  }, 5);
  check.unref();
}

/** `engine::channels::create {buffer_size?=64 (max 1024)}` -> `{writer, reader}` refs. */
export function installChannelFunctions(api: EngineApi, manager: ChannelManager): void {
  api.registerFunction({
    id: 'engine::channels::create',
    description: 'Create a streaming channel pair (writer + reader refs).',
    worker: 'iii-engine-functions',
    handler: (data) => {
      const input = data === undefined || data === null ? {} : objectInput('engine::channels::create', data);
      const size = optionalInteger('engine::channels::create', input, 'buffer_size') ?? 64;
      const { writer, reader } = manager.create(size);
      return { writer, reader };
    },
  });
}
