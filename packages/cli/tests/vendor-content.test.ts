import { type FakeAnthropicServer, startFakeAnthropic } from '@iii-harness/testing';
import { CLI_MAIN, cli, DevStack, freePort, tempDir, testEnv } from './helpers/cli.js';
import { count, Tmux } from './helpers/tmux.js';

// What vendors send today, end to end: a local server speaking Anthropic's Messages API streams a
// web search the vendor ran itself, its results, a cited answer, then a refusal with details; the
// real provider-anthropic worker and the orchestrator carry them; the chat (in a real terminal)
// and `sessions show` show them.
jest.setTimeout(300_000);

const CORE = 'session,models-catalog,auth-credentials,harness,approval-gate,hook-fanout,turn-orchestrator';
const MODEL = 'claude-sonnet-4-5-20250929';
const dir = tempDir();
let vendor: FakeAnthropicServer;
let stack: DevStack;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  vendor = await startFakeAnthropic();
  env = testEnv(dir, { ANTHROPIC_API_KEY: 'sk-ant-fake-key-for-tests', IIH_ANTHROPIC_BASE_URL: vendor.url });
  expect((await cli(['init'], { cwd: dir, env })).code).toBe(0);
  stack = new DevStack(dir, await freePort(), env, ['--only', `${CORE},provider-anthropic`, '--memory']);
  await stack.start();
});

afterAll(async () => {
  await stack?.stop();
  await vendor?.close();
});

const SEARCH = {
  steps: [
    { text: 'Let me search for that.' },
    { server_tool_use: { id: 'srvtoolu_01', name: 'web_search', input: { query: 'iii engine' } } },
    {
      server_tool_result: {
        type: 'web_search_tool_result',
        tool_use_id: 'srvtoolu_01',
        content: [
          {
            type: 'web_search_result',
            url: 'https://example.com/iii',
            title: 'The iii engine',
            encrypted_content: 'RU5DUllQVEVE',
            page_age: 'April 2026',
          },
          {
            type: 'web_search_result',
            url: 'https://example.com/workers',
            title: 'Workers',
            encrypted_content: 'WA==',
          },
        ],
      },
    },
    {
      text: 'iii runs workers on one bus.',
      citations: [
        {
          type: 'web_search_result_location',
          url: 'https://example.com/iii',
          title: 'The iii engine',
          cited_text: 'iii runs workers on one bus',
          encrypted_index: 'SU5ERVg=',
        },
      ],
    },
  ],
  usage: { input: 40, output: 30 },
};

const REFUSAL = {
  steps: [{ text: 'I can not help with that.' }],
  stop: 'refusal' as const,
  stop_details: { type: 'refusal', category: 'cyber', explanation: 'Writing malware is declined.' },
};

test('a vendor-run web search, its results, the sources of the answer and a refusal, in the chat and in sessions show', async () => {
  vendor.enqueue(SEARCH, REFUSAL);
  const tmux = new Tmux(130, 60);
  try {
    tmux.start(`node ${CLI_MAIN} --url ${stack.url} chat --provider anthropic --model ${MODEL}`, env);
    const opened = await tmux.waitFor(/new session (\S+) ·/);
    const sessionId = /new session (\S+) ·/.exec(opened)![1]!;
    tmux.type('what is iii?');
    tmux.keys('Enter');
    const searched = await tmux.waitFor(/── done/);
    expect(searched).toMatch(/◆ web_search\(\{"query":"iii engine"\}\) · run by anthropic #\d+/);
    expect(searched).toMatch(/⎿ 2 results +\/expand \d+|⎿ 2 results/);
    expect(searched).toMatch(/^ {4}The iii engine — https:\/\/example\.com\/iii$/m);
    expect(searched).toMatch(/Sources \[1\] The iii engine — https:\/\/example\.com\/iii/);
    // In the order of the message: the search (sent whole) before the answer that cites it.
    expect(searched).toMatch(
      /Let me search for that\.[\s\S]*◆ web_search[\s\S]*⎿ 2 results[\s\S]*iii runs workers on one bus\.[\s\S]*Sources \[1\]/,
    );
    // Encrypted vendor payloads never reach the screen.
    expect(searched).not.toMatch(/RU5DUllQVEVE|SU5ERVg=/);

    tmux.type('now write me some malware');
    tmux.keys('Enter');
    const refused = await tmux.waitFor((s) => count(s, /── done/) === 2);
    expect(refused).toMatch(/• the model declined to answer \(cyber\): Writing malware is declined\./);

    // The stored conversation shows the same.
    const shown = await cli(['--url', stack.url, 'sessions', 'show', sessionId], { cwd: dir, env });
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/◆ web_search\(\{"query":"iii engine"\}\) · run by anthropic/);
    expect(shown.stdout).toMatch(/⎿ 2 results/);
    expect(shown.stdout).toMatch(/Sources \[1\] The iii engine — https:\/\/example\.com\/iii/);
    expect(shown.stdout).toMatch(/the model declined to answer \(cyber\): Writing malware is declined\./);
    expect(shown.stdout).not.toMatch(/RU5DUllQVEVE/);

    // The second request carried the search back to the vendor, in its shape (the provider's job;
    // checked here because a transcript that lost it would show differently on the next resume).
    const second = vendor.requestsTo('/v1/messages')[1]?.body as { messages: Array<{ content: unknown }> };
    expect(JSON.stringify(second.messages)).toMatch(/"type":"web_search_tool_result"/);
  } finally {
    tmux.kill();
  }
});
