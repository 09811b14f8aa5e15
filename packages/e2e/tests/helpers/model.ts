import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, type TestClient } from '@iii-harness/testing';
import { contracts, isTerminalTurnState, type Model, type TurnView } from '@iii-harness/types';
import { CHAOS_MODEL_MAIN } from './cluster.js';
import { type Proc, spawnNode } from './processes.js';

/** One request the chaos model received (CHAOS_REQUESTS_FILE). */
export interface ModelRequest {
  request_id: string;
  kind: 'agent' | 'summary';
  /** o200k tokens of the request (system, tools, messages). */
  tokens: number;
  max_tokens?: number;
  refused: boolean;
}

/** The chaos model as its own process against an engine, recording every request it receives. */
export class ChaosModel {
  readonly file = join(mkdtempSync(join(tmpdir(), 'iih-model-')), 'requests.jsonl');
  private proc?: Proc;

  constructor(
    private readonly url: string,
    private readonly env: Record<string, string> = {},
  ) {}

  async start(client: TestClient): Promise<void> {
    this.proc = spawnNode('model', CHAOS_MODEL_MAIN, ['--url', this.url], {
      ...this.env,
      CHAOS_REQUESTS_FILE: this.file,
    });
    await eventually(
      async () => {
        await client.bus.call(contracts.engine.functionsInfo, { function_id: 'provider::chaos::stream' });
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    ).catch((error: unknown) => {
      throw new Error(`the chaos model did not register: ${(error as Error).message}\n${this.proc?.tail()}`);
    });
  }

  requests(): ModelRequest[] {
    if (!existsSync(this.file)) return [];
    return readFileSync(this.file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as ModelRequest);
  }

  async stop(): Promise<void> {
    await this.proc?.kill9();
  }
}

/** Put models of provider `chaos` in the catalog (the chaos model does not discover its own). */
export async function catalogModels(client: TestClient, models: Array<Partial<Model> & { id: string }>): Promise<void> {
  await client.bus.call(contracts.models.reconcile, {
    provider: 'chaos',
    models: models.map(
      (m): Model => ({
        provider: 'chaos',
        context_window: 200_000,
        max_output_tokens: 4_096,
        capabilities: ['tools'],
        ...m,
      }),
    ),
  });
}

/** A user message through the front door; resolves with the turn's view once it has ended. */
export async function sendAndWait(
  client: TestClient,
  input: { session_id: string; text: string; model: string; idempotency_key?: string },
  timeoutMs = 120_000,
): Promise<TurnView> {
  const { turn_id } = await client.bus.call(contracts.harness.send, { ...input, provider: 'chaos' });
  return eventually(
    async () => {
      const view = await client.bus.call(contracts.turn.getState, { session_id: input.session_id });
      if (view.turn_id !== turn_id || !isTerminalTurnState(view.state)) throw new Error(`turn still ${view.state}`);
      return view;
    },
    { timeoutMs, intervalMs: 50 },
  );
}
