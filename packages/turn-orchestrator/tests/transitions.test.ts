import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { turnState } from '@iii-harness/types';
import { IllegalTransition, nextState, type StepOutcome, TRANSITIONS } from '../src/transitions.js';

const OUTCOMES: StepOutcome[] = [
  'provisioned',
  'answered',
  'called_functions',
  'batch_done',
  'held',
  'ask_model',
  'completed',
  'max_turns',
  'provider_failed',
  'budget_exceeded',
  'aborted',
  'failed',
];
const STATES = turnState.options;

describe('the transition table', () => {
  it('answers exactly the pairs it lists, and fails loudly on every other one', () => {
    let legal = 0;
    for (const state of STATES)
      for (const outcome of OUTCOMES) {
        const listed = (TRANSITIONS as Record<string, Record<string, string>>)[state]?.[outcome];
        if (listed) {
          expect(nextState(state, outcome)).toBe(listed);
          expect(STATES).toContain(listed);
          legal++;
        } else expect(() => nextState(state, outcome)).toThrow(IllegalTransition);
      }
    expect(legal).toBe(22);
  });

  it('lets every live state end (aborted → stopped, failed → failed) and nothing leave an ended one', () => {
    for (const state of STATES) {
      if (state === 'stopped' || state === 'failed') {
        for (const outcome of OUTCOMES) expect(() => nextState(state, outcome)).toThrow(IllegalTransition);
        continue;
      }
      expect(nextState(state, 'aborted')).toBe('stopped');
      expect(nextState(state, 'failed')).toBe('failed');
    }
  });

  it('reaches every state from provisioning', () => {
    const seen = new Set<string>(['provisioning']);
    const queue = ['provisioning'];
    while (queue.length) {
      const row = (TRANSITIONS as Record<string, Record<string, string>>)[queue.shift()!] ?? {};
      for (const next of Object.values(row)) if (!seen.has(next)) seen.add(next) && queue.push(next);
    }
    expect([...seen].sort()).toEqual([...STATES].sort());
  });

  it('is the only place a state is chosen (run::start picks the first one)', () => {
    const src = join(__dirname, '../src');
    const files = readdirSync(src, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
    const literal = new RegExp(`state:\\s*'(${STATES.join('|')})'`);
    const offenders = files.filter(
      (f) => !['transitions.ts', 'run-start.ts'].includes(f) && literal.test(readFileSync(join(src, f), 'utf8')),
    );
    expect(offenders).toEqual([]);
  });
});
