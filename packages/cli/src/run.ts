import { readFileSync } from 'node:fs';
import { CommanderError } from 'commander';
import { describeError, EXIT } from './errors.js';
import { buildProgram, commanderExit } from './program.js';

function versionOf(manifest: URL): string {
  try {
    return (JSON.parse(readFileSync(manifest, 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Print an error as one line on stderr; never a stack trace. */
function reportError(error: unknown): number {
  const { message, exitCode } = describeError(error);
  process.stderr.write(`iii-harness: ${message}\n`);
  return exitCode;
}

/** Run the command line; resolves with the exit code. Commands that stay up resolve when they end. */
export async function run(argv: string[], manifest: URL): Promise<number> {
  // Output piped into `head` closes early: that is not an error worth a trace.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(EXIT.ok);
  });
  // The demo provider is a worker process: its flags are the worker runtime's, not ours.
  if (argv[0] === 'demo-provider') {
    const { runDemoProvider } = await import('./demo/main.js');
    await runDemoProvider(argv.slice(1));
    return EXIT.ok;
  }
  const program = buildProgram(versionOf(manifest));
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) return commanderExit(error);
    return reportError(error);
  }
}
