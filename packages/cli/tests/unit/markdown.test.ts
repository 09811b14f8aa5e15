import { splitComplete } from '../../src/render/split.js';

describe('splitComplete', () => {
  test('cuts after the last blank line', () => {
    expect(splitComplete('one\n\ntwo\n\nthr')).toEqual({ complete: 'one\n\ntwo\n\n', rest: 'thr' });
    expect(splitComplete('no blank line yet')).toEqual({ complete: '', rest: 'no blank line yet' });
  });

  test('never inside a code fence; a closed fence is complete', () => {
    const open = 'intro\n\n```js\nconst a = 1;\n\nconst b = 2;\n';
    expect(splitComplete(open)).toEqual({ complete: 'intro\n\n', rest: '```js\nconst a = 1;\n\nconst b = 2;\n' });
    const closed = '```js\nconst a = 1;\n```\nafter';
    expect(splitComplete(closed)).toEqual({ complete: '```js\nconst a = 1;\n```\n', rest: 'after' });
  });

  test('a long open block is cut at its last full line; a fence is closed and reopened', () => {
    const lines = Array.from({ length: 30 }, (_, i) => `x${i}`).join('\n');
    const { complete, rest } = splitComplete(`\`\`\`py\n${lines}`, 24);
    expect(complete.endsWith('x28\n```\n')).toBe(true);
    expect(rest).toBe('```py\nx29');
  });
});
