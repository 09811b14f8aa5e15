import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';
import { counterFor, estimateTokens } from '../src/tokens.js';

/**
 * The heuristic's error, measured: estimate ÷ o200k over this repository's TypeScript, Markdown
 * and JSON and over generated tool output (JSON records, log lines). It must not count less than
 * o200k (the other vendors' tokenizers split finer), and not wildly more (compaction would fire
 * early). The table it prints is the one in the README.
 */

const ROOT = join(__dirname, '..', '..', '..');

function files(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) files(path, out);
    else out.push(path);
  }
  return out;
}

function corpus(): Record<string, string[]> {
  const all = [...files(join(ROOT, 'packages')), ...files(join(ROOT, 'docs'))];
  const read = (ext: string) =>
    all
      .filter((f) => f.endsWith(ext))
      .map((f) => readFileSync(f, 'utf8'))
      .filter((t) => t.length > 200 && t.length < 200_000);
  const records = Array.from({ length: 200 }, (_, i) =>
    JSON.stringify({
      id: `ORD-${100_000 + i * 7_919}`,
      amount: Math.round(((i * 1234.56) % 99_999) * 100) / 100,
      path: `/srv/app/module-${i}/file_${i}.ts`,
      url: `https://api.example.test/v1/items/${i}?expand=lines`,
      lines: Array.from({ length: 4 }, (_, k) => ({ sku: `SKU-${i}-${k}`, qty: k + 1, note: 'ok' })),
    }),
  );
  const logs = Array.from({ length: 100 }, (_, i) =>
    Array.from(
      { length: 20 },
      (_, k) =>
        `2026-11-${String((i % 28) + 1).padStart(2, '0')}T10:${String(k).padStart(2, '0')}:00Z INFO worker[${i}] handled request ${i * 100 + k} in ${k * 3 + 1}ms status=200`,
    ).join('\n'),
  );
  return {
    typescript: read('.ts'),
    markdown: read('.md'),
    json: read('.json'),
    'tool output (JSON)': records,
    'tool output (logs)': logs,
  };
}

const o200k = (text: string) => countTokens(text, { disallowedSpecial: new Set() });
const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))]!;

describe('token estimate', () => {
  it('counts 1.0-1.6 times what o200k counts on every kind of text, rarely less', () => {
    const rows: string[] = [
      '| text | samples | o200k tokens | estimate ÷ o200k (all) | p5 | p50 | p95 |',
      '|---|---:|---:|---:|---:|---:|---:|',
    ];
    for (const [kind, texts] of Object.entries(corpus())) {
      let real = 0;
      let estimated = 0;
      const ratios: number[] = [];
      for (const text of texts) {
        const r = o200k(text);
        const e = estimateTokens(text);
        real += r;
        estimated += e;
        ratios.push(e / r);
      }
      ratios.sort((x, y) => x - y);
      const overall = estimated / real;
      rows.push(
        `| ${kind} | ${texts.length} | ${real} | ${overall.toFixed(2)} | ${quantile(ratios, 0.05).toFixed(2)} | ${quantile(ratios, 0.5).toFixed(2)} | ${quantile(ratios, 0.95).toFixed(2)} |`,
      );
      expect(texts.length).toBeGreaterThan(10);
      expect(overall).toBeGreaterThanOrEqual(1.0);
      expect(overall).toBeLessThanOrEqual(1.6);
      expect(quantile(ratios, 0.05)).toBeGreaterThanOrEqual(0.95);
    }
    console.log(rows.join('\n'));
  });

  it('uses the real encoding for OpenAI-family models and the estimate for others', async () => {
    const rules = [
      { provider: 'openai', encoding: 'o200k_base' as const },
      { model_pattern: '^gpt-(4|3\\.5)', encoding: 'cl100k_base' as const },
    ];
    const text = 'The quick brown fox jumps over the lazy dog. const x = await fetch(url);';
    const openai = await counterFor(rules, 'openai', 'gpt-5');
    expect(openai.encoding).toBe('o200k_base');
    expect(openai.text(text)).toBe(o200k(text));
    expect((await counterFor(rules, 'lmstudio', 'gpt-4-0613')).encoding).toBe('cl100k_base');
    const other = await counterFor(rules, 'anthropic', 'claude-sonnet-4-5');
    expect(other.encoding).toBe('estimate');
    expect(other.text(text)).toBe(estimateTokens(text));
    // A special token's spelling inside a result is text, not an error.
    expect(openai.text('end <|endoftext|> here')).toBeGreaterThan(3);
  });
});
