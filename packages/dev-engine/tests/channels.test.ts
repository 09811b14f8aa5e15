/**
 * Conformance: data channels between workers (engine::channels::create + /ws/channels/<id>).
 */
import type { IIIClient } from 'iii-sdk';
import { createChannel } from 'iii-sdk/helpers';
import WebSocket from 'ws';
import type { RunningEngine } from '../src/index.js';
import { connectWorker, quietSdk, startTestEngine, waitForFunction } from './helpers/conformance.js';

let engine: RunningEngine;
let producer: IIIClient;
let consumer: IIIClient;

beforeAll(async () => {
  quietSdk();
  engine = await startTestEngine();
  producer = connectWorker(engine.url, 'producer');
  consumer = connectWorker(engine.url, 'consumer');
});

afterAll(async () => {
  await producer.shutdown();
  await consumer.shutdown();
  await engine.close();
});

function openStatus(url: string): Promise<{ status?: number; opened: boolean; closeCode?: number }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url);
    ws.once('unexpected-response', (_req, res) => resolve({ status: res.statusCode, opened: false }));
    ws.once('open', () => ws.once('close', (code) => resolve({ opened: true, closeCode: code })));
    ws.once('error', () => undefined);
  });
}

test('engine::channels::create returns writer and reader refs sharing id and key', async () => {
  const refs = (await producer.trigger({
    function_id: 'engine::channels::create',
    payload: { buffer_size: 8 },
  })) as any;
  expect(refs).toEqual({
    writer: { channel_id: expect.any(String), access_key: expect.any(String), direction: 'write' },
    reader: { channel_id: refs.writer.channel_id, access_key: refs.writer.access_key, direction: 'read' },
  });
});

test('a writer in one worker streams text messages and binary data to a reader in another', async () => {
  const received: { messages: string[]; data?: string } = { messages: [] };
  consumer.registerFunction('consumer::drain', async (input: any) => {
    input.reader.onMessage((m: string) => received.messages.push(m));
    const data: string = (await input.reader.readAll()).toString('utf8');
    received.data = data;
    return { bytes: data.length };
  });
  await waitForFunction(producer, 'consumer::drain');
  const channel = await createChannel(producer);
  const result = producer.trigger({ function_id: 'consumer::drain', payload: { reader: channel.readerRef } });
  channel.writer.sendMessage(JSON.stringify({ type: 'progress', pct: 50 }));
  channel.writer.stream.write(Buffer.from('hello '));
  channel.writer.stream.end(Buffer.from('world'));
  await expect(result).resolves.toEqual({ bytes: 11 });
  expect(received).toEqual({ messages: ['{"type":"progress","pct":50}'], data: 'hello world' });
});

test('large data is chunked and arrives intact', async () => {
  consumer.registerFunction('consumer::size', async (input: any) => (await input.reader.readAll()).length);
  await waitForFunction(producer, 'consumer::size');
  const channel = await createChannel(producer);
  const result = producer.trigger({ function_id: 'consumer::size', payload: { reader: channel.readerRef } });
  channel.writer.stream.end(Buffer.alloc(1024 * 1024 + 17, 7));
  await expect(result).resolves.toBe(1024 * 1024 + 17);
});

test('each end can be taken once; a wrong key or an unknown id gets 404', async () => {
  const { readerRef } = await createChannel(producer);
  const url = (ref: { channel_id: string; access_key: string }, dir: string, key = ref.access_key) =>
    `${engine.url}/ws/channels/${ref.channel_id}?key=${encodeURIComponent(key)}&dir=${dir}`;
  const first = new WebSocket(url(readerRef, 'read'));
  await new Promise((resolve) => first.once('open', resolve));
  await expect(openStatus(url(readerRef, 'read'))).resolves.toMatchObject({ opened: true, closeCode: 1008 });
  await expect(openStatus(url(readerRef, 'read', 'wrong-key'))).resolves.toEqual({ status: 404, opened: false });
  await expect(openStatus(url({ ...readerRef, channel_id: crypto.randomUUID() }, 'write'))).resolves.toEqual({
    status: 404,
    opened: false,
  });
  await expect(openStatus(url(readerRef, 'sideways'))).resolves.toEqual({ status: 400, opened: false });
  first.close();
});

test('when the writer closes, the reader is closed (data written before the reader connects is kept)', async () => {
  const { writerRef, readerRef } = await createChannel(producer);
  const base = (ref: { channel_id: string; access_key: string }, dir: string) =>
    `${engine.url}/ws/channels/${ref.channel_id}?key=${encodeURIComponent(ref.access_key)}&dir=${dir}`;
  const writer = new WebSocket(base(writerRef, 'write'));
  await new Promise((resolve) => writer.once('open', resolve));
  writer.send('early message');
  writer.send(Buffer.from('early bytes'));
  writer.close();
  await new Promise((resolve) => writer.once('close', resolve));
  const reader = new WebSocket(base(readerRef, 'read'));
  const got: Array<[boolean, string]> = [];
  reader.on('message', (d, isBinary) => got.push([isBinary, d.toString()]));
  const closeCode = await new Promise<number>((resolve) => reader.once('close', resolve));
  expect(closeCode).toBe(1000);
  expect(got).toEqual([
    [false, 'early message'],
    [true, 'early bytes'],
  ]);
});
