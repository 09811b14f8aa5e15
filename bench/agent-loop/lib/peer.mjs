// The durable peer: LangGraph.js as its docs build a tool-calling agent. A StateGraph over
// MessagesAnnotation with an `agent` node (a chat model: the shared script behind LangChain's
// BaseChatModel) and the prebuilt ToolNode running the same instant tool, routed by
// toolsCondition; compiled with SqliteSaver on a file; one thread_id per session, and
// `durability: 'sync'` so every superstep's checkpoint is written before the next one starts.
import { BaseChatModel } from '@langchain/core/language_models/chat_models';
import { AIMessage, HumanMessage, ToolMessage } from '@langchain/core/messages';
import { tool } from '@langchain/core/tools';
import { END, MessagesAnnotation, START, StateGraph } from '@langchain/langgraph';
import { ToolNode, toolsCondition } from '@langchain/langgraph/prebuilt';
import { PostgresSaver } from '@langchain/langgraph-checkpoint-postgres';
import { SqliteSaver } from '@langchain/langgraph-checkpoint-sqlite';
import { z } from 'zod';
import { askText, callsAsked, FINAL_TEXT, makeTool, TOOL_NAME, toolCallsFor } from './script.mjs';

/** The shared script as a LangChain chat model: tool calls for a user message, text after tool results. */
class ScriptedChatModel extends BaseChatModel {
  _llmType() {
    return 'scripted';
  }

  async _generate(messages) {
    const last = messages.at(-1);
    const message = ToolMessage.isInstance(last)
      ? new AIMessage(FINAL_TEXT)
      : new AIMessage({
          content: '',
          tool_calls: toolCallsFor(callsAsked(String(last.content))).map(({ id, args }) => ({
            id,
            name: TOOL_NAME,
            args,
            type: 'tool_call',
          })),
        });
    return { generations: [{ text: typeof message.content === 'string' ? message.content : '', message }] };
  }
}

/**
 * Build and compile the graph over a checkpointer: `SqliteSaver` on `file` (`synchronous` sets
 * SQLite's pragma; undefined = the saver's default: WAL with SQLite's default FULL), or
 * `PostgresSaver` on `postgres` (a connection string; the bench starts the server, lib/postgres.mjs).
 */
export async function startPeer({ file, postgres, synchronous, label = 'LangGraph.js' }) {
  const runs = { count: 0 };
  const run = makeTool(runs);
  const noop = tool(async (args) => run(args), {
    name: TOOL_NAME,
    description: 'instant bench tool',
    schema: z.object({ i: z.number() }),
  });
  const model = new ScriptedChatModel({});
  const checkpointer = postgres ? PostgresSaver.fromConnString(postgres) : SqliteSaver.fromConnString(file);
  if (postgres) await checkpointer.setup();
  else if (synchronous) checkpointer.db.pragma(`synchronous = ${synchronous}`);
  const graph = new StateGraph(MessagesAnnotation)
    .addNode('agent', async (state) => ({ messages: [await model.invoke(state.messages)] }))
    .addNode('tools', new ToolNode([noop]))
    .addEdge(START, 'agent')
    .addConditionalEdges('agent', toolsCondition, ['tools', END])
    .addEdge('tools', 'agent')
    .compile({ checkpointer });

  let counter = 0;
  return {
    name: label,
    runs,
    /** One turn on a fresh thread: invoke with the user message, resolved when the graph ends. */
    async turn(n) {
      const threadId = `peer-${++counter}`;
      const began = performance.now();
      const out = await graph.invoke(
        { messages: [new HumanMessage(askText(threadId, n))] },
        { configurable: { thread_id: threadId }, durability: 'sync' },
      );
      const ms = performance.now() - began;
      const last = out.messages.at(-1);
      if (!AIMessage.isInstance(last) || last.content !== FINAL_TEXT)
        throw new Error(`thread ${threadId} ended without the final answer`);
      return { ms, sessionId: threadId };
    },
    /** Message types of a thread's latest checkpoint (correctness check). */
    async roles(threadId) {
      const state = await graph.getState({ configurable: { thread_id: threadId } });
      return state.values.messages.map((m) => m.getType());
    },
    /** Rows the saver wrote for one thread: checkpoints and pending writes (what "a step" costs). */
    rowsFor(threadId) {
      if (postgres) return undefined;
      const db = checkpointer.db;
      const checkpoints = db.prepare('SELECT count(*) AS n FROM checkpoints WHERE thread_id = ?').get(threadId).n;
      const writes = db.prepare('SELECT count(*) AS n FROM writes WHERE thread_id = ?').get(threadId).n;
      return { checkpoints, writes };
    },
    pragma: () => (postgres ? undefined : checkpointer.db.pragma('synchronous', { simple: true })),
    async close() {
      if (postgres) await checkpointer.end();
      else checkpointer.db.close();
    },
  };
}
