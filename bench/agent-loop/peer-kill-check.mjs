#!/usr/bin/env node
// What the durable peer does after a kill (the other half of the goal, not a timing):
// a LangGraph turn with three tool calls (the prebuilt ToolNode; tool i sleeps i × 300 ms and
// appends "ran i" to a log) is SIGKILLed once two tools have finished, then the thread is
// resumed with `graph.invoke(null, config)`. Prints each tool's run count. ~5 s, local files only.
//   node peer-kill-check.mjs
import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BaseChatModel } from '@langchain/core/language_models/chat_models';
import { AIMessage, HumanMessage, ToolMessage } from '@langchain/core/messages';
import { tool } from '@langchain/core/tools';
import { END, MessagesAnnotation, START, StateGraph } from '@langchain/langgraph';
import { ToolNode, toolsCondition } from '@langchain/langgraph/prebuilt';
import { SqliteSaver } from '@langchain/langgraph-checkpoint-sqlite';
import { z } from 'zod';

const [role, dbFile, logFile] = process.argv.slice(2);
const config = { configurable: { thread_id: 'kill-check' }, durability: 'sync' };

class ThreeCalls extends BaseChatModel {
  _llmType() {
    return 'scripted';
  }

  async _generate(messages) {
    const message = ToolMessage.isInstance(messages.at(-1))
      ? new AIMessage('done')
      : new AIMessage({
          content: '',
          tool_calls: [1, 2, 3].map((i) => ({ id: `call_${i}`, name: 'slow', args: { i }, type: 'tool_call' })),
        });
    return { generations: [{ text: '', message }] };
  }
}

function graphOn(file, log) {
  const slow = tool(
    async ({ i }) => {
      await new Promise((resolve) => setTimeout(resolve, i * 300));
      appendFileSync(log, `ran ${i}\n`);
      return `ok ${i}`;
    },
    { name: 'slow', description: 'sleeps i × 300 ms', schema: z.object({ i: z.number() }) },
  );
  const model = new ThreeCalls({});
  return new StateGraph(MessagesAnnotation)
    .addNode('agent', async (state) => ({ messages: [await model.invoke(state.messages)] }))
    .addNode('tools', new ToolNode([slow]))
    .addEdge(START, 'agent')
    .addConditionalEdges('agent', toolsCondition, ['tools', END])
    .addEdge('tools', 'agent')
    .compile({ checkpointer: SqliteSaver.fromConnString(file) });
}

const runs = (log) => readFileSync(log, 'utf8').split('\n').filter(Boolean);

if (role === 'child') {
  await graphOn(dbFile, logFile).invoke({ messages: [new HumanMessage('run three tools')] }, config);
} else {
  const dir = mkdtempSync(join(tmpdir(), 'iih-peer-kill-'));
  const db = join(dir, 'langgraph.sqlite');
  const log = join(dir, 'runs.log');
  writeFileSync(log, '');
  try {
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url), 'child', db, log], { stdio: 'inherit' });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    while (runs(log).length < 2) await new Promise((resolve) => setTimeout(resolve, 10));
    child.kill('SIGKILL');
    await exited;
    const beforeResume = runs(log);
    const graph = graphOn(db, log);
    const pending = (await graph.getState(config)).next;
    const out = await graph.invoke(null, config);
    const counts = {};
    for (const line of runs(log)) counts[line] = (counts[line] ?? 0) + 1;
    console.log(`killed after: ${beforeResume.join(', ')}; pending node at restart: ${pending.join(', ') || '(none)'}`);
    console.log(`after invoke(null): ${out.messages.map((m) => m.getType()).join(' → ')}`);
    console.log(
      `tool runs: ${JSON.stringify(counts)}${Object.values(counts).some((n) => n > 1) ? ' — tools that had finished before the kill ran again' : ''}`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
