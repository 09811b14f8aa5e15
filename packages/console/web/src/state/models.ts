import type { Model, Usage } from '@iii-harness/types';
import { computed, signal } from '@preact/signals';
import type { ProviderStatus } from '../../../src/protocol';
import { rpc } from '../lib/rpc';
import { reportError, toast } from './app';

export const models = signal<Model[]>([]);
export const providers = signal<ProviderStatus[]>([]);
export const modelsLoaded = signal(false);
export const providersError = signal<string | null>(null);

export interface ModelRef {
  provider: string;
  model: string;
}
export const refKey = (ref: ModelRef) => `${ref.provider}/${ref.model}`;

export const providerById = computed(() => new Map(providers.value.map((p) => [p.id, p])));

export async function loadModels(): Promise<void> {
  const [list, status] = await Promise.allSettled([rpc.call('models::list', {}), rpc.call('console.providers', {})]);
  if (list.status === 'fulfilled') models.value = list.value.models;
  else reportError('Could not load the model catalog', list.reason);
  if (status.status === 'fulfilled') {
    providers.value = status.value.providers;
    providersError.value = null;
  } else providersError.value = (status.reason as Error).message;
  modelsLoaded.value = true;
}

const STORE = 'iii-console:model';
const read = (key: string): ModelRef | undefined => {
  try {
    const raw = localStorage.getItem(key);
    return raw ? (JSON.parse(raw) as ModelRef) : undefined;
  } catch {
    return undefined;
  }
};

/** Bumped when a choice changes, so views reading localStorage re-render. */
const choiceVersion = signal(0);

/** The model the next turn of a session uses: the person's pick for it, else their last pick. */
export function chosenModel(sessionId: string | undefined): ModelRef | undefined {
  void choiceVersion.value;
  return (sessionId ? read(`${STORE}:${sessionId}`) : undefined) ?? read(STORE);
}

export function chooseModel(sessionId: string | undefined, ref: ModelRef): void {
  localStorage.setItem(STORE, JSON.stringify(ref));
  if (sessionId) localStorage.setItem(`${STORE}:${sessionId}`, JSON.stringify(ref));
  choiceVersion.value++;
}

/** A new session inherits the draft's pick. */
export function copyChoice(from: string | undefined, to: string): void {
  const ref = chosenModel(from);
  if (ref) localStorage.setItem(`${STORE}:${to}`, JSON.stringify(ref));
}

export function findModel(ref: ModelRef | undefined): Model | undefined {
  return ref ? models.value.find((m) => m.provider === ref.provider && m.id === ref.model) : undefined;
}

/** USD of a usage at the catalog's price; undefined when the price is unknown. */
export function costOf(usage: Usage, ref: ModelRef): number | undefined {
  if (usage.cost_usd !== undefined) return usage.cost_usd;
  const pricing = findModel(ref)?.pricing;
  if (!pricing) return undefined;
  return (
    (usage.input_tokens * pricing.input +
      usage.output_tokens * pricing.output +
      (usage.cache_read_tokens ?? 0) * (pricing.cache_read ?? 0) +
      (usage.cache_write_tokens ?? 0) * (pricing.cache_write ?? 0)) /
    1_000_000
  );
}

export async function setKey(provider: string, token: string): Promise<boolean> {
  try {
    const result = await rpc.call('auth::set_token', { provider, token });
    toast(`${result.replaced ? 'Replaced' : 'Stored'} the key for ${provider}`, 'success');
    await loadModels();
    return true;
  } catch (error) {
    reportError(`Could not store the key for ${provider}`, error);
    return false;
  }
}

export async function removeKey(provider: string): Promise<void> {
  try {
    const result = await rpc.call('auth::delete_token', { provider });
    toast(
      result.deleted
        ? `Removed the stored key for ${provider}${result.configured ? ' (the environment still provides one)' : ''}`
        : `No stored key for ${provider}`,
      'success',
    );
    await loadModels();
  } catch (error) {
    reportError(`Could not remove the key for ${provider}`, error);
  }
}

export async function refreshProvider(provider: string): Promise<void> {
  try {
    const result = await rpc.call('console.refresh_models', { provider });
    toast(`${provider}: ${result.count} models`, 'success');
  } catch (error) {
    reportError(`Refreshing ${provider} failed`, error);
  }
  await loadModels();
}
