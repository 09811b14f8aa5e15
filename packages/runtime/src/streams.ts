import { contracts } from '@iii-harness/types';
import type { z } from 'zod';
import type { Bus } from './bus.js';
import { parseStored, type UpdateOp, type UpdateResult } from './state.js';

const { streamSet, streamGet, streamDelete, streamList, streamUpdate, streamSend } = contracts.engine;

/** Engine streams (`stream::*`): items grouped by `group_id`, each change pushed to subscribers. */
export class EngineStreams {
  constructor(private readonly bus: Bus) {}

  async set<T>(
    stream_name: string,
    group_id: string,
    item_id: string,
    data: T,
  ): Promise<{ old_value: T | null; new_value: T }> {
    return (await this.bus.call(streamSet, { stream_name, group_id, item_id, data })) as {
      old_value: T | null;
      new_value: T;
    };
  }

  async get<T = unknown>(
    stream_name: string,
    group_id: string,
    item_id: string,
    schema?: z.ZodType<T>,
  ): Promise<T | undefined> {
    const value = await this.bus.call(streamGet, { stream_name, group_id, item_id });
    return value === undefined || value === null
      ? undefined
      : parseStored(schema, value, `${stream_name}/${group_id}/${item_id}`);
  }

  async delete(stream_name: string, group_id: string, item_id: string): Promise<{ old_value: unknown }> {
    const reply = await this.bus.call(streamDelete, { stream_name, group_id, item_id });
    return { old_value: reply?.old_value ?? null };
  }

  async list<T = unknown>(stream_name: string, group_id: string, schema?: z.ZodType<T>): Promise<T[]> {
    const values = (await this.bus.call(streamList, { stream_name, group_id })) ?? [];
    return values.map((value) => parseStored(schema, value, `${stream_name}/${group_id}`));
  }

  async update<T = unknown>(
    stream_name: string,
    group_id: string,
    item_id: string,
    ops: UpdateOp[],
  ): Promise<UpdateResult<T>> {
    return (await this.bus.call(streamUpdate, { stream_name, group_id, item_id, ops })) as UpdateResult<T>;
  }

  /** A custom event on the group (not stored as an item). */
  async send(stream_name: string, group_id: string, type: string, data: unknown, id?: string): Promise<void> {
    await this.bus.call(streamSend, { stream_name, group_id, type, data, ...(id ? { id } : {}) });
  }
}
