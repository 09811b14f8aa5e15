import { Writable } from 'node:stream';
import type { DestinationStream } from 'pino';

export interface CapturedLogs {
  stream: DestinationStream;
  /** Everything written so far, as one string (assert secrets are absent here). */
  text(): string;
  lines(): Array<Record<string, unknown>>;
}

/** A pino destination that keeps every line. */
export function captureLogs(): CapturedLogs {
  const raw: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      raw.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  return {
    stream: stream as unknown as DestinationStream,
    text: () => raw.join('\n'),
    lines: () => raw.map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}
