import { Writable } from 'node:stream';

/** A pino destination that keeps every line, parsed. */
export function captureLogs() {
  const raw: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      raw.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  return {
    stream: stream as unknown as import('pino').DestinationStream,
    text: () => raw.join('\n'),
    lines: () => raw.map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}
