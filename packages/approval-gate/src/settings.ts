import type { Handler } from '@iii-harness/runtime';
import type { contracts } from '@iii-harness/types';
import type { Deps } from './resolution.js';

export const getSettings = ({ store }: Deps) =>
  (({ session_id }) => store.getSettings(session_id)) satisfies Handler<typeof contracts.approval.getSettings>;

export const setMode = ({ store }: Deps) =>
  (async ({ session_id, mode }) =>
    store.putSettings({ ...(await store.getSettings(session_id)), mode })) satisfies Handler<
    typeof contracts.approval.setMode
  >;

export const addAlwaysAllow = ({ store }: Deps) =>
  (async ({ session_id, function_id }) => {
    const current = await store.getSettings(session_id);
    return store.putSettings({ ...current, always_allow: [...current.always_allow, function_id] });
  }) satisfies Handler<typeof contracts.approval.addAlwaysAllow>;

export const removeAlwaysAllow = ({ store }: Deps) =>
  (async ({ session_id, function_id }) => {
    const current = await store.getSettings(session_id);
    return store.putSettings({ ...current, always_allow: current.always_allow.filter((f) => f !== function_id) });
  }) satisfies Handler<typeof contracts.approval.removeAlwaysAllow>;

export const clearSettings = ({ store }: Deps) =>
  (async ({ session_id }) => {
    await store.clearSettings(session_id);
    return { cleared: true };
  }) satisfies Handler<typeof contracts.approval.clearSettings>;
