import type { GlobalOptions } from '../program.js';
import { c, printJson, table } from '../style.js';
import { withClient } from './common.js';

const price = (usd: number) => (usd === 0 ? '0' : `$${usd}`);

export async function listModels(options: { provider?: string; json: boolean }, globals: GlobalOptions): Promise<void> {
  await withClient(globals, async (client) => {
    const models = (await client.models(options.provider)).sort(
      (a, b) => a.provider.localeCompare(b.provider) || a.id.localeCompare(b.id),
    );
    if (options.json) return printJson({ models });
    if (models.length === 0) {
      process.stdout.write(
        `No models${options.provider ? ` for ${options.provider}` : ''}. Providers add theirs when they start with a key or a reachable server (\`iii-harness doctor\`).\n`,
      );
      return;
    }
    const rows = [
      ['PROVIDER', 'MODEL', 'CONTEXT', 'MAX OUT', 'PRICE IN/OUT PER 1M', 'CAPABILITIES'].map((h) => c.dim(h)),
      ...models.map((m) => [
        m.provider,
        m.id,
        String(m.context_window),
        String(m.max_output_tokens),
        m.pricing ? `${price(m.pricing.input)} / ${price(m.pricing.output)}` : c.dim('unknown'),
        m.capabilities.join(','),
      ]),
    ];
    process.stdout.write(`${table(rows)}\n`);
  });
}
