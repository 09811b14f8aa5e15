import { type Bus, versionedRecord } from '@iii-harness/runtime';
import { type Model, model } from '@iii-harness/types';
import { z } from 'zod';
import type { Config } from './config.js';

/**
 * A provider's stored models, versioned. Version 1 was the bare list (it could carry no `v`);
 * version 2 is `{v, models}`. A newer version is refused (`unavailable/unsupported_record_version`).
 */
const providerModels = versionedRecord({
  what: 'model list',
  current: 2,
  unversioned: 1,
  schema: z.object({ models: model.array() }),
  migrations: { 1: (record) => record },
});

/** A stored value as a record: a version 1 list is wrapped so the versioned reader sees its fields. */
const asRecord = (value: unknown) => (Array.isArray(value) ? { models: value } : value);

function readModels(value: unknown, where: string): Model[] {
  return providerModels.read(asRecord(value), where).models;
}

/**
 * The catalog lives in engine state: one key per provider holding its whole model list, so a
 * provider's reconcile is a single atomic write and survives restarts of this worker.
 */
export class CatalogStore {
  constructor(
    private readonly bus: Bus,
    private readonly config: Config,
  ) {}

  /** Every model, ordered by provider then id (engine lists are unordered). */
  async all(): Promise<Model[]> {
    const scope = this.config.state_scope;
    const lists = await this.bus.state.list(scope);
    return lists.flatMap((value) => readModels(value, scope)).sort(byProviderThenId);
  }

  async ofProvider(provider: string): Promise<Model[]> {
    const value = await this.bus.state.get(this.config.state_scope, provider);
    return value === undefined ? [] : readModels(value, `${this.config.state_scope}/${provider}`);
  }

  /** Replace a provider's models; returns what was there before (nothing when it cannot be read). */
  async replace(provider: string, models: Model[]): Promise<Model[]> {
    const { old_value } = await this.bus.state.set(
      this.config.state_scope,
      provider,
      providerModels.stamp({ models: [...models].sort(byProviderThenId) }),
    );
    if (old_value === null || old_value === undefined) return [];
    try {
      return readModels(old_value, `${this.config.state_scope}/${provider}`);
    } catch {
      return [];
    }
  }
}

export function byProviderThenId(a: Model, b: Model): number {
  return a.provider === b.provider ? a.id.localeCompare(b.id) : a.provider.localeCompare(b.provider);
}
