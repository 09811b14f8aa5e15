import { Box, Static, Text, useInput, useStdout } from 'ink';
import { useEffect, useState, useSyncExternalStore } from 'react';
import type { ChatController, ChatSnapshot } from '../chat/controller.js';
import { filterOptions, type Picker } from '../chat/picker.js';
import type { HeldCall } from '../chat/transcript.js';
import { formatArgs, renderItemText } from '../render/items.js';
import { renderMarkdown } from '../render/markdown.js';
import { c, clip } from '../style.js';

/**
 * The chat's terminal UI (Ink). Finished transcript items go to <Static>, which prints each once
 * into the terminal's scrollback; below it, the live part is redrawn: the paragraph being
 * streamed, running calls, the approval prompt or a picker, the status line and the input.
 * All behaviour is in ChatController; this file only draws.
 */

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/** Re-render on a timer while something moves (spinners, elapsed times). */
function useTick(active: boolean, ms = 120): number {
  const [tick, setTick] = useState(0);
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(() => setTick((t) => t + 1), ms);
    return () => clearInterval(timer);
  }, [active, ms]);
  return tick;
}

const seconds = (since: number) => `${Math.max(0, (Date.now() - since) / 1000).toFixed(1)}s`;

const STATE_WORDS: Record<string, string> = {
  provisioning: 'starting',
  assistant_streaming: 'answering',
  function_execute: 'running calls',
  function_awaiting_approval: 'waiting for you',
  steering_check: 'thinking about what is next',
};

function ApprovalPrompt({ call, more, width }: { call: HeldCall; more: number; width: number }) {
  return (
    <Box flexDirection="column" borderStyle="round" borderColor="yellow" paddingX={1} width={Math.min(width, 100)}>
      <Text>
        {c.yellow.bold('Allow ')}
        {c.bold(call.function_id)}
        {c.yellow.bold('?')} {c.dim(`#${call.ref}`)}
        {more > 0 ? c.yellow(`  (${more} more waiting)`) : ''}
      </Text>
      <Text>{c.dim(clip(formatArgs(call.args, width * 3), width * 3))}</Text>
      <Text>
        {c.bold('a')} allow once · {c.bold('A')} always (this session) · {c.bold('d')} deny with a reason ·{' '}
        {c.bold('Esc')} stop the turn
      </Text>
    </Box>
  );
}

function PickerView({ picker }: { picker: Picker }) {
  const options = filterOptions(picker);
  const start = Math.max(0, Math.min(picker.index - 4, options.length - 10));
  return (
    <Box flexDirection="column" borderStyle="round" borderColor="cyan" paddingX={1}>
      <Text>
        {c.cyan.bold(picker.title)}
        {picker.filter ? c.dim(`  filter: ${picker.filter}`) : ''}
      </Text>
      {options.slice(start, start + 10).map((option, i) => (
        <Text key={option.value}>
          {start + i === picker.index ? c.cyan('❯ ') : '  '}
          {start + i === picker.index ? c.bold(option.label) : option.label}
          {option.hint ? c.dim(`  ${option.hint}`) : ''}
        </Text>
      ))}
      {options.length === 0 ? <Text>{c.dim('  nothing matches')}</Text> : null}
      <Text>{c.dim('↑/↓ move · Enter choose · type to filter · Esc cancel')}</Text>
    </Box>
  );
}

function InputBox({ snap, prompt }: { snap: ChatSnapshot; prompt: string }) {
  const { lines, row, col } = snap.editor;
  return (
    <Box flexDirection="column">
      {lines.map((line, i) => {
        const head = i === 0 ? prompt : '  ';
        if (i !== row) return <Text key={String(i)}>{`${head}${line}`}</Text>;
        const at = line[col] ?? ' ';
        return (
          <Text key={String(i)}>
            {head}
            {line.slice(0, col)}
            {c.inverse(at)}
            {line.slice(col + 1)}
          </Text>
        );
      })}
    </Box>
  );
}

function StatusLine({ snap, tick }: { snap: ChatSnapshot; tick: number }) {
  const turn = snap.live.turn;
  const parts: string[] = [];
  if (!snap.connected) parts.push(c.red('⚠ engine connection lost: reconnecting…'));
  else if (turn?.waiting)
    parts.push(
      `${c.yellow(SPINNER[tick % SPINNER.length]!)} ${c.yellow(`waiting for ${turn.waiting.function_id}`)} ${c.dim(`(${clip(turn.waiting.reason, 60)}; gives up at ${new Date(turn.waiting.gives_up_at).toTimeString().slice(0, 8)})`)}`,
    );
  else if (turn)
    parts.push(
      `${c.cyan(SPINNER[tick % SPINNER.length]!)} ${STATE_WORDS[turn.state] ?? turn.state} ${c.dim(seconds(turn.started_at))}`,
    );
  parts.push(c.dim(`${snap.provider}/${snap.model}`));
  parts.push(c.dim(`session ${snap.sessionId.slice(0, 13)}…`));
  parts.push(c.dim(turn ? 'Esc stops · type to steer' : '/help'));
  return (
    <Box flexDirection="column">
      <Text>{parts.join(c.dim(' · '))}</Text>
      {snap.status ? <Text>{c.yellow(snap.status)}</Text> : null}
    </Box>
  );
}

function Live({ snap, width, tick }: { snap: ChatSnapshot; width: number; tick: number }) {
  const { live } = snap;
  const held = live.approvals.filter((a) => !snap.deciding.includes(a.function_call_id));
  return (
    <Box flexDirection="column">
      {live.text.trim() ? <Text>{renderMarkdown(live.text, width - 2).replace(/^/gm, '  ')}</Text> : null}
      {live.thinking ? <Text>{c.dim.italic(`  ✻ thinking… (${live.thinking.chars} chars)`)}</Text> : null}
      {live.preparingCall ? <Text>{c.dim('  ⋯ writing a function call')}</Text> : null}
      {live.running.map((run) => (
        <Text key={run.function_call_id}>
          {`  ${c.cyan(SPINNER[tick % SPINNER.length]!)} ${run.function_id} ${c.dim(`#${run.ref} · ${seconds(run.started_at)}`)}`}
        </Text>
      ))}
      {held[0] && snap.mode.kind !== 'deny-reason' ? (
        <ApprovalPrompt call={held[0]} more={held.length - 1} width={width} />
      ) : null}
    </Box>
  );
}

export function App({ chat }: { chat: ChatController }) {
  const snap = useSyncExternalStore(chat.subscribe, chat.snapshot);
  const { stdout } = useStdout();
  const width = stdout.columns ?? 100;
  const moving = snap.live.turn !== undefined || snap.live.running.length > 0;
  const tick = useTick(moving);
  useInput((input, key) => chat.key(input, key));

  const denying = snap.mode.kind === 'deny-reason' ? snap.mode.call : undefined;
  return (
    <>
      <Static items={snap.items as Array<ChatSnapshot['items'][number]>}>
        {(item) => <Text key={item.id}>{renderItemText(item, width)}</Text>}
      </Static>
      <Live snap={snap} width={width} tick={tick} />
      {snap.mode.kind === 'picker' ? <PickerView picker={snap.mode.picker} /> : null}
      {denying ? (
        <Text>
          {c.red('Deny ')}
          {c.bold(denying.function_id)}
          {c.dim(' — the reason goes to the model (Enter to deny, Esc to go back)')}
        </Text>
      ) : null}
      <Box marginTop={1} flexDirection="column">
        <InputBox snap={snap} prompt={denying ? c.red('reason ❯ ') : c.bold.blue('❯ ')} />
        {snap.completions.length ? <Text>{c.dim(snap.completions.slice(0, 6).join('   '))}</Text> : null}
        <StatusLine snap={snap} tick={tick} />
      </Box>
    </>
  );
}
