import { password } from '@clack/prompts';
import { CliError, usageError } from '../errors.js';
import type { GlobalOptions } from '../program.js';
import { c, printJson, sym, table } from '../style.js';
import { withClient } from './common.js';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** The key from a pipe, or asked for without echo on a terminal. */
async function readKey(provider: string): Promise<string> {
  if (!process.stdin.isTTY) return (await readStdin()).trim();
  const answer = await password({ message: `API key for ${provider}`, mask: '•' });
  if (typeof answer !== 'string') throw new CliError('cancelled');
  return answer.trim();
}

export async function setKey(provider: string, globals: GlobalOptions): Promise<void> {
  if (!/^[a-z0-9][a-z0-9_-]*$/.test(provider))
    throw usageError(`"${provider}" is not a provider id (lowercase letters, digits, _ or -)`);
  await withClient(globals, async (client) => {
    const known = await client.providers().catch(() => undefined);
    if (known && !known.some((p) => p.id === provider))
      throw usageError(
        `provider ${provider} is not registered (registered: ${known.map((p) => p.id).join(', ') || 'none'})`,
      );
    const key = await readKey(provider);
    if (!key) throw usageError('no key given');
    const result = await client.setToken(provider, key);
    process.stdout.write(
      `${sym.ok()} stored the key for ${provider}${result.replaced ? ' (replacing the old one)' : ''}; it wins over the environment.\n`,
    );
  });
}

export async function keyStatus(options: { json: boolean }, globals: GlobalOptions): Promise<void> {
  await withClient(globals, async (client) => {
    const providers = await client.credentials();
    if (options.json) return printJson({ providers });
    const rows = providers.map((p) => [
      p.configured ? sym.ok() : sym.fail(),
      p.provider,
      p.configured
        ? `key from ${p.source}`
        : c.dim(`no key${p.env_var ? `: set ${p.env_var} or run \`iii-harness auth set ${p.provider}\`` : ''}`),
    ]);
    process.stdout.write(`${rows.length ? table(rows) : 'No providers known to the vault.'}\n`);
  });
}
