import type { KeyAction } from './keys.js';

/** A list to choose from (models, sessions, branches, held calls), filtered by what is typed. */

export interface PickerOption {
  label: string;
  value: string;
  hint?: string;
}

export interface Picker {
  title: string;
  options: PickerOption[];
  index: number;
  filter: string;
  onPick(value: string): void | Promise<void>;
}

/** The options that match what was typed. */
export function filterOptions(picker: Picker): PickerOption[] {
  const needle = picker.filter.toLowerCase();
  return needle
    ? picker.options.filter((o) => `${o.label} ${o.hint ?? ''} ${o.value}`.toLowerCase().includes(needle))
    : picker.options;
}

/** A key in an open picker: it stays open (moved, filtered), is cancelled, or an option is chosen. */
export function pickerKey(picker: Picker, action: KeyAction): 'stay' | 'cancel' | PickerOption {
  const visible = filterOptions(picker);
  switch (action.type) {
    case 'escape':
      return 'cancel';
    case 'up':
      picker.index = Math.max(0, picker.index - 1);
      return 'stay';
    case 'down':
      picker.index = Math.min(visible.length - 1, picker.index + 1);
      return 'stay';
    case 'submit':
      return visible[picker.index] ?? 'cancel';
    case 'backspace':
      picker.filter = picker.filter.slice(0, -1);
      picker.index = 0;
      return 'stay';
    case 'text':
      picker.filter += action.text.replace(/\s+$/, '');
      picker.index = 0;
      return 'stay';
    default:
      return 'stay';
  }
}
