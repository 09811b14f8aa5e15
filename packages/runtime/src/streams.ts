import type { z } from 'zod';
import type { Bus } from './bus.js';
import { parseStored, type UpdateOp, type UpdateResult } from './state.js';

/** Engine streams (`stream::*`): items grouped by `group_id`, each change pushed to subscribers. */
export class EngineStreams {
  constructor(private readonly bus: Bus) {}

  set<T>(
    stream_name: string,
    group_id: string,
    item_id: string,
    data: T,
  ): Promise<{ old_value: T | null; new_value: T }> {
    return this.bus.call('stream::set', { stream_name, group_id, item_id, data });
  }

  async get<T = unknown>(
    stream_name: string,
    group_id: string,
    item_id: string,
    schema?: z.ZodType<T>,
  ): Promise<T | undefined> {
    const value = await this.bus.call('stream::get', { stream_name, group_id, item_id });
    return value === undefined || value === null
      ? undefined
      : parseStored(schema, value, `${stream_name}/${group_id}/${item_id}`);
  }

  delete(stream_name: string, group_id: string, item_id: string): Promise<{ old_value: unknown }> {
    return this.bus.call('stream::delete', { stream_name, group_id, item_id });
  }

  async list<T = unknown>(stream_name: string, group_id: string, schema?: z.ZodType<T>): Promise<T[]> {
    const values = ((await this.bus.call('stream::list', { stream_name, group_id })) ?? []) as unknown[];
    return values.map((value) => parseStored(schema, value, `${stream_name}/${group_id}`));
  }

  update<T = unknown>(
    stream_name: string,
    group_id: string,
    item_id: string,
    ops: UpdateOp[],
  ): Promise<UpdateResult<T>> {
    return this.bus.call('stream::update', { stream_name, group_id, item_id, ops });
  }

  /** A custom event on the group (not stored as an item). */
  async send(stream_name: string, group_id: string, type: string, data: unknown, id?: string): Promise<void> {
    await this.bus.call('stream::send', { stream_name, group_id, type, data, ...(id ? { id } : {}) });
  }
}
