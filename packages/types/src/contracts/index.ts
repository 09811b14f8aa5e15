import { approval } from './approval.js';
import { auth } from './auth.js';
import { budget } from './budget.js';
import { compaction } from './compaction.js';
import { webConsole } from './console.js';
import { engine } from './engine.js';
import { harness, policy, ui } from './harness.js';
import { hookFanout } from './hook-fanout.js';
import { models } from './models.js';
import { lmstudio, provider } from './provider.js';
import { session } from './session.js';
import { run, turn } from './turn.js';
import { web } from './web.js';

/**
 * Every bus function the harness serves or calls, one contract each, grouped by the worker that
 * serves it (`engine` for the iii engine's builtins). Call as `bus.call(contracts.session.append, …)`.
 */
export const contracts = {
  engine,
  session,
  models,
  provider,
  lmstudio,
  harness,
  policy,
  ui,
  approval,
  hookFanout,
  auth,
  run,
  turn,
  web,
  compaction,
  console: webConsole,
  budget,
};
