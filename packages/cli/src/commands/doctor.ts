import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { HarnessClient } from '../client.js';
import { captureSdkConsole, engineReachable, engineUrl } from '../connect.js';
import { POLICY_FIX, providerReports, workersOf } from '../inspect.js';
import type { GlobalOptions } from '../program.js';
import { ENGINE_PKG, resolveBin, STACK_WORKERS } from '../stack/catalog.js';
import { c, printJson, sym } from '../style.js';

/** One finding: ok, a warning (works, but worth knowing) or a failure (exit 1), each with its fix. */
export interface Check {
  name: string;
  status: 'ok' | 'warn' | 'fail' | 'skip';
  detail: string;
  fix?: string;
}

/** Workers without which a chat cannot work. */
const CORE_WORKERS = ['session', 'harness', 'approval-gate', 'turn-orchestrator', 'models-catalog', 'auth-credentials'];

function readConfig(path: string): { harness?: { permissions_path?: unknown } } | undefined {
  if (!existsSync(path)) return undefined;
  return (parseYaml(readFileSync(path, 'utf8')) ?? {}) as { harness?: { permissions_path?: unknown } };
}

/** Checks that need no engine: Node, the build, the files in this directory. */
export function localChecks(configPath: string): Check[] {
  const checks: Check[] = [];
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  checks.push(
    major > 20 || (major === 20 && minor >= 19)
      ? { name: 'node', status: 'ok', detail: `v${process.versions.node}` }
      : { name: 'node', status: 'fail', detail: `v${process.versions.node}`, fix: 'install Node 20.19 or newer' },
  );

  const unbuilt = [ENGINE_PKG, ...STACK_WORKERS.map((w) => w.pkg)]
    .map((pkg) => resolveBin(pkg))
    .filter((r) => 'missing' in r && r.missing === 'not_built');
  checks.push(
    unbuilt.length === 0
      ? { name: 'build', status: 'ok', detail: 'engine and workers are built' }
      : { name: 'build', status: 'fail', detail: `${unbuilt.length} package(s) not built`, fix: 'run `npm run build`' },
  );

  let config: ReturnType<typeof readConfig>;
  try {
    config = readConfig(configPath);
    checks.push(
      config
        ? { name: 'config', status: 'ok', detail: `${configPath} is valid YAML` }
        : {
            name: 'config',
            status: 'warn',
            detail: `no ${configPath}: every worker uses its defaults`,
            fix: 'run `iii-harness init` for a starter file',
          },
    );
  } catch (error) {
    checks.push({
      name: 'config',
      status: 'fail',
      detail: `${configPath} is not valid YAML: ${(error as Error).message.split('\n')[0]}`,
      fix: 'fix the file, or move it away and run `iii-harness init`',
    });
  }

  const configured = config?.harness?.permissions_path;
  const policyPath = resolve(
    process.env.IIH_PERMISSIONS_PATH ?? (typeof configured === 'string' ? configured : './iii-permissions.yaml'),
  );
  checks.push(
    existsSync(policyPath)
      ? { name: 'policy file', status: 'ok', detail: policyPath }
      : {
          name: 'policy file',
          status: 'fail',
          detail: `missing: ${policyPath}; agents are denied every call`,
          fix: 'run `iii-harness init` (writes a starter iii-permissions.yaml)',
        },
  );

  const vault = resolve(
    (process.env.IIH_CREDENTIALS_PATH ?? '~/.iii/credentials.json').replace(/^~(?=\/|$)/, homedir()),
  );
  if (!existsSync(vault))
    checks.push({
      name: 'credentials file',
      status: 'ok',
      detail: `none at ${vault} (keys come from the environment)`,
    });
  else {
    const mode = statSync(vault).mode & 0o777;
    checks.push(
      mode & 0o077
        ? {
            name: 'credentials file',
            status: 'fail',
            detail: `${vault} is readable by others (mode ${mode.toString(8)})`,
            fix: `chmod 600 ${vault}`,
          }
        : { name: 'credentials file', status: 'ok', detail: `${vault} (mode ${mode.toString(8)})` },
    );
  }
  return checks;
}

/** Checks against the running engine. */
export async function busChecks(client: HarnessClient): Promise<Check[]> {
  const checks: Check[] = [{ name: 'engine', status: 'ok', detail: client.url }];
  const workers = await workersOf(client);
  const missing = CORE_WORKERS.filter((w) => !workers.has(w));
  checks.push(
    missing.length === 0
      ? { name: 'workers', status: 'ok', detail: `${workers.size} registered` }
      : {
          name: 'workers',
          status: 'fail',
          detail: `not registered: ${missing.join(', ')}`,
          fix: `start them with \`iii-harness dev\`; if they crash, \`iii-harness logs ${missing[0]}\` says why`,
        },
  );

  if (workers.has('harness')) {
    const providers = await providerReports(client).catch(() => []);
    for (const p of providers)
      checks.push(
        p.usable
          ? { name: `provider ${p.id}`, status: 'ok', detail: p.detail }
          : { name: `provider ${p.id}`, status: 'warn', detail: p.detail, ...(p.fix ? { fix: p.fix } : {}) },
      );
    checks.push(
      providers.some((p) => p.usable && p.id !== 'demo')
        ? {
            name: 'usable provider',
            status: 'ok',
            detail: providers
              .filter((p) => p.usable)
              .map((p) => p.id)
              .join(', '),
          }
        : {
            name: 'usable provider',
            status: 'fail',
            detail: 'no provider can answer',
            fix: 'set an API key (see the providers above) or start LM Studio / llama.cpp; `iii-harness chat --provider demo` works offline',
          },
    );
    const loaded = await client.policyLoaded().catch(() => undefined);
    checks.push(
      loaded === undefined
        ? { name: 'policy loaded', status: 'skip', detail: 'could not ask the harness' }
        : loaded
          ? { name: 'policy loaded', status: 'ok', detail: 'the harness has a valid policy' }
          : {
              name: 'policy loaded',
              status: 'fail',
              detail: 'no valid policy: agents are denied every call',
              fix: POLICY_FIX,
            },
    );
  }
  return checks;
}

const marks = { ok: () => sym.ok(), warn: () => sym.warn(), fail: () => sym.fail(), skip: () => c.dim('-') };

export async function runDoctor(options: { json: boolean; config?: string }, globals: GlobalOptions): Promise<void> {
  const configPath = options.config ?? join('.', 'config.yaml');
  const checks = localChecks(configPath);
  const url = engineUrl(globals.url);
  if (await engineReachable(url)) {
    captureSdkConsole(process.env.IIH_CLI_DEBUG_LOG);
    const client = await HarnessClient.connect(url);
    try {
      checks.push(...(await busChecks(client)));
    } finally {
      await client.close().catch(() => undefined);
    }
  } else
    checks.push({
      name: 'engine',
      status: 'fail',
      detail: `not running at ${url}`,
      fix: 'start it with `iii-harness dev` (or pass --url / set III_URL)',
    });

  const failed = checks.filter((check) => check.status === 'fail').length;
  if (options.json) printJson({ ok: failed === 0, checks });
  else {
    const width = Math.max(...checks.map((check) => check.name.length));
    for (const check of checks)
      process.stdout.write(
        `${marks[check.status]()} ${check.name.padEnd(width)}  ${check.detail}${check.fix ? `\n  ${' '.repeat(width)}  ${c.cyan(`→ ${check.fix}`)}` : ''}\n`,
      );
    process.stdout.write(
      failed ? `\n${c.red(`${failed} problem(s) to fix.`)}\n` : `\n${c.green('Everything needed is in place.')}\n`,
    );
  }
  if (failed) process.exitCode = 1;
}
