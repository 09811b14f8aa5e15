import { createLogger, startWorker, type Worker } from '@iii-harness/runtime';
import type { HarnessClient } from '../client.js';
import { DEMO_MODEL, DEMO_PROVIDER } from '../demo/script.js';
import { demoWorker } from '../demo/worker.js';
import { CliError, usageError } from '../errors.js';
import { providerReports } from '../inspect.js';

export interface Choice {
  provider: string;
  model: string;
}

/**
 * Which provider and model a conversation uses: what the person named, else what the session
 * used last, else the first provider that can answer. When none can, the error says exactly
 * what to do.
 */
export async function chooseModel(
  client: HarnessClient,
  wanted: { provider?: string; model?: string; sessionId?: string },
): Promise<Choice> {
  if (wanted.provider === DEMO_PROVIDER) return { provider: DEMO_PROVIDER, model: wanted.model ?? DEMO_MODEL };
  const providers = await providerReports(client);
  if (wanted.provider) {
    const found = providers.find((p) => p.id === wanted.provider);
    if (!found)
      throw usageError(
        `provider ${wanted.provider} is not registered (registered: ${providers.map((p) => p.id).join(', ') || 'none'}; \`--provider demo\` runs offline)`,
      );
    if (!found.usable)
      throw new CliError(`provider ${found.id} cannot answer: ${found.detail}${found.fix ? `; ${found.fix}` : ''}`);
    return { provider: found.id, model: wanted.model ?? (await firstModel(client, found.id)) };
  }
  if (wanted.model) {
    // A model named alone: its provider is the one whose catalog has it.
    const found = (await client.models()).find((m) => m.id === wanted.model);
    if (!found) throw usageError(`no model ${wanted.model} in the catalog (\`iii-harness models\` lists them)`);
    return { provider: found.provider, model: found.id };
  }
  if (wanted.sessionId) {
    const last = await client.turnState(wanted.sessionId).catch(() => undefined);
    if (last) return { provider: last.provider, model: wanted.model ?? last.model };
  }
  const usable = providers.find((p) => p.usable && p.id !== DEMO_PROVIDER);
  if (!usable) throw new CliError(noProviderMessage(providers));
  return { provider: usable.id, model: wanted.model ?? (await firstModel(client, usable.id)) };
}

async function firstModel(client: HarnessClient, provider: string): Promise<string> {
  const models = await client.models(provider);
  if (models.length === 0)
    throw new CliError(`provider ${provider} has no models in the catalog yet: name one with --model`);
  return models.sort((a, b) => a.id.localeCompare(b.id))[0]!.id;
}

function noProviderMessage(providers: Awaited<ReturnType<typeof providerReports>>): string {
  const fixes = providers.filter((p) => p.fix).map((p) => `${p.id}: ${p.fix}`);
  return `no provider can answer yet${fixes.length ? ` (${fixes.join('; ')})` : ''}; or try the offline demo: --provider demo`;
}

/**
 * The demo provider lives in this process while it is needed, unless something already serves
 * it (`iii-harness dev --demo`).
 */
export async function ensureDemoProvider(client: HarnessClient): Promise<Worker<unknown> | undefined> {
  if (await client.isRegistered(`provider::${DEMO_PROVIDER}::stream`)) return undefined;
  const worker = await startWorker(demoWorker(), {
    url: client.url,
    logger: createLogger({ worker: 'provider-demo', level: 'silent' }),
    otel: false,
  });
  // Its model reaches the catalog in the background; the first message must not race it.
  for (let i = 0; i < 50 && !(await client.models(DEMO_PROVIDER)).length; i++)
    await new Promise((r) => setTimeout(r, 100));
  return worker as Worker<unknown>;
}
