import type { HarnessClient } from './client.js';
import { DEMO_PROVIDER } from './demo/script.js';
import { c, sym, table } from './style.js';

/** What `dev`, `status` and `doctor` say about a running harness. */
export interface ProviderReport {
  id: string;
  name: string;
  usable: boolean;
  detail: string;
  fix?: string;
}

export interface HarnessReport {
  url: string;
  /** Worker name → number of functions it registered. */
  workers: Map<string, number>;
  providers: ProviderReport[] | { error: string };
  policy: { loaded: boolean } | { error: string };
}

const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));

export async function workersOf(client: HarnessClient): Promise<Map<string, number>> {
  const workers = new Map<string, number>();
  for (const fn of await client.functions()) {
    // The engine's own builtins (iii-state, iii-stream, ...) are not workers of the harness.
    if (!fn.worker_name || fn.worker_name === 'engine' || /^iii(-|$)/.test(fn.worker_name)) continue;
    workers.set(fn.worker_name, (workers.get(fn.worker_name) ?? 0) + 1);
  }
  return workers;
}

export async function providerReports(client: HarnessClient): Promise<ProviderReport[]> {
  const [providers, credentials, models] = await Promise.all([
    client.providers(),
    client.credentials().catch(() => []),
    client.models().catch(() => []),
  ]);
  return providers
    .sort((a, b) => a.id.localeCompare(b.id))
    .map((p): ProviderReport => {
      const count = models.filter((m) => m.provider === p.id).length;
      const name = p.display_name ?? p.id;
      if (p.id === DEMO_PROVIDER)
        return { id: p.id, name, usable: true, detail: 'scripted answers, offline (chosen with --provider demo)' };
      if (p.kind === 'local')
        return count > 0
          ? { id: p.id, name, usable: true, detail: `local server at ${p.api_url}, ${count} model(s)` }
          : {
              id: p.id,
              name,
              usable: false,
              detail: `no models found at ${p.api_url}`,
              fix: `start ${name}'s server at ${p.api_url} (and load a model), or set provider-${p.id}.base_url in config.yaml`,
            };
      const credential = credentials.find((cr) => cr.provider === p.id);
      if (credential?.configured)
        return { id: p.id, name, usable: true, detail: `key from ${credential.source ?? 'the vault'}` };
      const envVar = credential?.env_var ?? p.credential_env_var;
      return {
        id: p.id,
        name,
        usable: false,
        detail: 'no API key',
        fix: `${envVar ? `set ${envVar}, or ` : ''}run \`iii-harness auth set ${p.id}\``,
      };
    });
}

export async function inspectHarness(client: HarnessClient): Promise<HarnessReport> {
  const workers = await workersOf(client);
  const [providers, policy] = await Promise.all([
    providerReports(client).catch((error: unknown) => ({ error: errorText(error) })),
    client
      .policyLoaded()
      .then((loaded) => ({ loaded }))
      .catch((error: unknown) => ({ error: errorText(error) })),
  ]);
  return { url: client.url, workers, providers, policy };
}

export const POLICY_FIX = 'run `iii-harness init` (writes ./iii-permissions.yaml), then restart `iii-harness dev`';

/** The providers and policy part of the status table. */
export function reportLines(report: HarnessReport, policyPath?: string): string[] {
  const lines: string[] = [];
  lines.push(c.bold('Providers'));
  if ('error' in report.providers) lines.push(`  ${sym.fail()} unknown: ${report.providers.error}`);
  else if (report.providers.length === 0) lines.push(`  ${sym.warn()} none registered`);
  else
    lines.push(
      table(
        report.providers.map((p) => [
          p.usable ? sym.ok() : sym.fail(),
          p.id,
          p.usable ? p.detail : `${p.detail}${p.fix ? c.dim(` → ${p.fix}`) : ''}`,
        ]),
        { indent: 2 },
      ),
    );
  lines.push(c.bold('Policy'));
  if ('error' in report.policy) lines.push(`  ${sym.fail()} unknown: ${report.policy.error}`);
  else if (report.policy.loaded) lines.push(`  ${sym.ok()} loaded${policyPath ? ` from ${policyPath}` : ''}`);
  else lines.push(`  ${sym.fail()} none loaded: agents are denied every call ${c.dim(`→ ${POLICY_FIX}`)}`);
  return lines;
}
