#!/usr/bin/env node
import { fileURLToPath } from 'node:url';
import { ConfigError, createLogger, loadWorkerConfig, packageVersion } from '@iii-harness/runtime';
import { configSchema, envOverrides, HELP, parseConsoleFlags } from './config.js';
import { startConsole } from './console.js';

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
type Level = (typeof LEVELS)[number];

async function main(argv: readonly string[]): Promise<void> {
  const version = packageVersion(import.meta.url);
  let running: Awaited<ReturnType<typeof startConsole>>;
  try {
    const flags = parseConsoleFlags(argv);
    if (flags.help) return void process.stdout.write(`${HELP(version)}\n`);
    if (flags.version) return void process.stdout.write(`${version ?? 'unknown'}\n`);
    const level = flags.logLevel ?? process.env.LOG_LEVEL ?? 'info';
    if (!(LEVELS as readonly string[]).includes(level))
      throw new ConfigError(`--log-level must be one of ${LEVELS.join(', ')}; got "${level}"`);
    const fromFile = loadWorkerConfig({
      worker: 'console',
      schema: configSchema,
      file: flags.config,
      envOverrides,
    });
    // Flags win over the file and the environment.
    const parsed = configSchema.safeParse({
      ...fromFile,
      ...(flags.host !== undefined ? { host: flags.host } : {}),
      ...(flags.port !== undefined ? { port: flags.port } : {}),
      ...(flags.token !== undefined ? { token: flags.token } : {}),
    });
    if (!parsed.success)
      throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
    running = await startConsole({
      url: flags.url,
      config: parsed.data,
      staticDir: fileURLToPath(new URL('./public', import.meta.url)),
      version,
      logger: createLogger({ worker: 'console', level: level as Level }),
    });
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`iii-harness-console: ${error.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`iii-harness-console: failed to start: ${(error as Error).message}\n`);
    process.exit(1);
  }
  // Like a notebook server: the one place the token is shown is the terminal that started it.
  process.stdout.write(`iii-harness console: ${running.openUrl}\n`);
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    running.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

await main(process.argv.slice(2));
