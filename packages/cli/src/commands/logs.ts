import { resolve } from 'node:path';
import { usageError } from '../errors.js';
import { formatLogLine, lineTime, logFile, logNames, readNew, tailLines } from '../stack/logs.js';

interface LogsOptions {
  follow: boolean;
  lines: number;
  dataDir: string;
  raw: boolean;
}

export async function runLogs(name: string | undefined, options: LogsOptions): Promise<void> {
  const dataDir = resolve(options.dataDir);
  const known = logNames(dataDir);
  if (known.length === 0)
    throw usageError(`no logs under ${dataDir}/logs: \`iii-harness dev\` writes them (or pass --data-dir)`);
  if (name && !known.includes(name)) throw usageError(`no log for "${name}" (have: ${known.join(', ')})`);
  const names = name ? [name] : known;
  const show = (source: string, line: string) =>
    process.stdout.write(`${options.raw ? line : formatLogLine(source, line)}\n`);

  const first = names
    .flatMap((source) => tailLines(logFile(dataDir, source), options.lines).map((line) => ({ source, line })))
    .sort((a, b) => lineTime(a.line) - lineTime(b.line))
    .slice(-options.lines);
  for (const { source, line } of first) show(source, line);
  if (!options.follow) return;

  const offsets = new Map(names.map((source) => [source, readNew(logFile(dataDir, source), 0).offset]));
  await new Promise<void>((done) => {
    const timer = setInterval(() => {
      for (const source of names) {
        const next = readNew(logFile(dataDir, source), offsets.get(source) ?? 0);
        offsets.set(source, next.offset);
        for (const line of next.lines) show(source, line);
      }
    }, 250);
    const stop = () => {
      clearInterval(timer);
      done();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
