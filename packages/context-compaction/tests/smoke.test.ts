import { contracts } from '@iii-harness/types';
import {
  appendAll,
  assistantMessage,
  call,
  compactNow,
  contextOf,
  newSessionId,
  plan,
  resultMessage,
  type Stack,
  startStack,
} from './stack.js';

let s: Stack;
beforeAll(async () => {
  s = await startStack();
}, 60_000);
afterAll(async () => s?.close());

it('smoke', async () => {
  const session_id = newSessionId();
  await s.client.bus.call(contracts.session.ensure, { session_id });
  const msgs = [];
  for (let i = 0; i < 30; i++) {
    msgs.push({ role: 'user' as const, content: `turn ${i}: read the file please ${'lorem ipsum '.repeat(20)}` });
    msgs.push(assistantMessage([call(`c${i}`, 'fs::read', { path: `/repo/src/file_${i}.ts` })]));
    msgs.push(resultMessage(`c${i}`, 'fs::read', `export const value${i} = ${i * 1000 + 7};\n`.repeat(30)));
    msgs.push(assistantMessage([{ type: 'text', text: `done with ${i}` }]));
  }
  await appendAll(s, session_id, msgs);
  const p = await plan(s, { session_id, provider: 'scripted', model: 'small-8k' });
  console.log(p);
  const r = await compactNow(s, { session_id, provider: 'scripted', model: 'small-8k' });
  console.log(r);
  const p2 = await plan(s, { session_id, provider: 'scripted', model: 'small-8k' });
  console.log(p2);
  const ctx = await contextOf(s, session_id);
  console.log(JSON.stringify(ctx.messages.slice(0, 3), null, 1).slice(0, 3000));
}, 60_000);
