import { type Picker, pickerKey } from '../../src/chat/picker.js';

const picker = (): Picker => ({
  title: 'Model',
  options: [
    { label: 'anthropic/claude', value: 'a' },
    { label: 'openai/gpt', value: 'b', hint: 'fast' },
    { label: 'demo/demo-scripted', value: 'c' },
  ],
  index: 0,
  filter: '',
  onPick: () => undefined,
});

test('moves, filters by label or hint, chooses, cancels', () => {
  const p = picker();
  expect(pickerKey(p, { type: 'down' })).toBe('stay');
  expect(pickerKey(p, { type: 'submit' })).toMatchObject({ value: 'b' });
  expect(pickerKey(p, { type: 'text', text: 'fas' })).toBe('stay');
  expect(pickerKey(p, { type: 'submit' })).toMatchObject({ value: 'b' });
  expect(pickerKey(p, { type: 'text', text: 'zzz' })).toBe('stay');
  expect(pickerKey(p, { type: 'submit' })).toBe('cancel');
  expect(pickerKey(p, { type: 'escape' })).toBe('cancel');
});
