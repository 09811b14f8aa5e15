import { type Bus, matchesAnyGlob } from '@iii-harness/runtime';
import { contracts, type FunctionCallBlock, type JsonObject, type ToolSpec } from '@iii-harness/types';
import type { NativeTool, TurnRecord } from './record.js';

export const AGENT_TRIGGER = 'agent_trigger';
export const DISCOVERY_FUNCTIONS = ['engine::functions::list', 'engine::functions::info'] as const;

/** The functions the model discovers with: answered by the orchestrator through the policy, never gated. */
export const isDiscovery = (functionId: string) => (DISCOVERY_FUNCTIONS as readonly string[]).includes(functionId);

/** The one tool of the default exposure: any bus function, discovered at run time. */
export const agentTriggerTool: ToolSpec = {
  name: AGENT_TRIGGER,
  description: [
    'Call a function on the iii bus by its id, e.g. {"function_id": "shell::exec", "payload": {"command": "ls"}}.',
    'Discover what you may call with {"function_id": "engine::functions::list", "payload": {}} and read a function\'s input schema with',
    '{"function_id": "engine::functions::info", "payload": {"function_id": "<id>"}}. Some calls wait for a person to approve them; a denied call returns the reason.',
  ].join(' '),
  parameters: {
    type: 'object',
    properties: {
      function_id: { type: 'string', description: 'The function to call, namespace::name' },
      payload: { type: 'object', description: "The function's input", additionalProperties: true },
    },
    required: ['function_id'],
    additionalProperties: false,
  },
};

export type ResolvedCall = { function_id: string; payload: JsonObject } | { error: string };

/** The bus function and payload a model's tool call stands for. */
export function resolveCall(record: Pick<TurnRecord, 'native_tools'>, call: FunctionCallBlock): ResolvedCall {
  if (call.name === AGENT_TRIGGER) {
    const { function_id, payload } = call.arguments as { function_id?: unknown; payload?: unknown };
    if (typeof function_id !== 'string' || function_id.trim() === '')
      return { error: 'agent_trigger needs a string function_id' };
    if (payload !== undefined && (payload === null || typeof payload !== 'object' || Array.isArray(payload)))
      return { error: 'agent_trigger payload must be an object' };
    return { function_id, payload: (payload ?? {}) as JsonObject };
  }
  const native = record.native_tools?.find((tool) => tool.name === call.name);
  if (native) return { function_id: native.function_id, payload: call.arguments };
  return { error: `there is no tool named ${call.name}` };
}

export function toolsFor(record: Pick<TurnRecord, 'exposure' | 'native_tools'>): ToolSpec[] {
  return record.exposure === 'native'
    ? (record.native_tools ?? []).map(({ name, description, parameters }) => ({ name, description, parameters }))
    : [agentTriggerTool];
}

/** A provider-safe tool name for a function id (`shell::exec` → `shell__exec`). */
export function toolName(functionId: string, taken: Set<string>): string {
  const base =
    functionId
      .replace(/::/g, '__')
      .replace(/[^a-zA-Z0-9_-]/g, '_')
      .slice(0, 60) || 'fn';
  let name = base;
  for (let i = 2; taken.has(name); i++) name = `${base.slice(0, 57)}_${i}`;
  taken.add(name);
  return name;
}

/**
 * Native exposure: one tool per function the run may call and the policy does not deny,
 * with the function's own input schema. `isDenied` asks the policy.
 */
export async function buildNativeTools(
  bus: Bus,
  record: Pick<TurnRecord, 'functions'>,
  isDenied: (functionId: string) => Promise<boolean>,
  limit: number,
): Promise<NativeTool[]> {
  const { functions } = await bus.call(contracts.engine.functionsList, {});
  const candidates = functions
    .filter((f) => matchesAnyGlob(record.functions, f.function_id) && !f.function_id.startsWith('turn::'))
    .sort((a, b) => a.function_id.localeCompare(b.function_id));
  const taken = new Set<string>();
  const tools: NativeTool[] = [];
  for (const f of candidates) {
    if (tools.length >= limit) break;
    if (await isDenied(f.function_id)) continue;
    const info = await bus.call(contracts.engine.functionsInfo, { function_id: f.function_id }).catch(() => undefined);
    const schema = info?.request_schema as JsonObject | undefined;
    const parameters = schema && schema.type === 'object' ? schema : { type: 'object', additionalProperties: true };
    tools.push({
      name: toolName(f.function_id, taken),
      function_id: f.function_id,
      description: (info?.description ?? f.description ?? f.function_id).slice(0, 1_000),
      parameters,
    });
  }
  return tools;
}
