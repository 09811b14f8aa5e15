import type { Ledger } from './details.js';
import { SECTION_KEYS, type SectionKey, type SummarySections } from './details.js';
import { renderLedger } from './ledger.js';

/**
 * The structured summary: fixed sections, rendered as Markdown for the model and parsed back
 * from the summariser's reply. A re-compaction updates the previous sections in place; a section
 * the reply leaves out keeps its previous content, so a careless reply never drops what the
 * previous summary held.
 */

const TITLES: Record<SectionKey, string> = {
  goal: 'Goal',
  constraints: 'Constraints and preferences',
  done: 'Done',
  in_progress: 'In progress',
  decisions: 'Decisions (with reasons)',
  next_steps: 'Next steps',
  critical_context: 'Critical context',
  notes: 'Other notes',
};

export const emptySections = (): SummarySections =>
  Object.fromEntries(SECTION_KEYS.map((key) => [key, ''])) as SummarySections;

/** The headings the summariser must answer with, in order (`notes` is ours, for unplaced text). */
export const REQUIRED_HEADINGS = [
  '## Goal',
  '## Constraints and preferences',
  '## Progress',
  '### Done',
  '### In progress',
  '## Decisions (with reasons)',
  '## Next steps',
  '## Critical context',
];

const body = (text: string) => text.trim() || '(none)';

export function renderSections(s: SummarySections): string {
  const parts = [
    `## ${TITLES.goal}\n${body(s.goal)}`,
    `## ${TITLES.constraints}\n${body(s.constraints)}`,
    `## Progress\n### ${TITLES.done}\n${body(s.done)}\n### ${TITLES.in_progress}\n${body(s.in_progress)}`,
    `## ${TITLES.decisions}\n${body(s.decisions)}`,
    `## ${TITLES.next_steps}\n${body(s.next_steps)}`,
    `## ${TITLES.critical_context}\n${body(s.critical_context)}`,
  ];
  if (s.notes.trim()) parts.push(`## ${TITLES.notes}\n${s.notes.trim()}`);
  return parts.join('\n\n');
}

/** What the model is sent in the compaction entry: the summary, then the ledger. */
export function renderSummary(sections: SummarySections | null, ledger: Ledger): string {
  return [sections ? renderSections(sections) : '', renderLedger(ledger)].filter(Boolean).join('\n\n');
}

const HEADING = /^\s*(?:#{1,6}\s*(.+?)|\*\*(.+?)\*\*)\s*:?\s*$/;

function sectionOf(title: string): SectionKey | 'progress' | null {
  const t = title
    .toLowerCase()
    .replace(/[*_`:]/g, '')
    .trim();
  if (t.includes('goal') || t.includes('objective')) return 'goal';
  if (t.includes('constraint') || t.includes('preference')) return 'constraints';
  if (t.includes('in progress') || t.includes('in-progress') || t.includes('ongoing')) return 'in_progress';
  if (t === 'done' || t.includes('completed') || t.includes('accomplished') || t.startsWith('done')) return 'done';
  if (t.includes('progress')) return 'progress';
  if (t.includes('decision')) return 'decisions';
  if (t.includes('next')) return 'next_steps';
  if (t.includes('critical') || t.includes('context')) return 'critical_context';
  if (t.includes('note')) return 'notes';
  return null;
}

/** The sections a reply contains (only those whose heading it has), and text under no known heading. */
export function parseSections(text: string): { found: Partial<SummarySections>; unplaced: string } {
  const found: Partial<Record<SectionKey, string[]>> = {};
  const unplaced: string[] = [];
  let current: SectionKey | null = null;
  for (const line of text.split('\n')) {
    const heading = HEADING.exec(line);
    if (heading) {
      const key = sectionOf(heading[1] ?? heading[2] ?? '');
      if (key === 'progress') {
        // Text directly under "Progress" (no sub-heading) counts as done.
        current = 'done';
        found.done ??= [];
        continue;
      }
      if (key) {
        current = key;
        found[key] ??= [];
        continue;
      }
    }
    if (current) found[current]!.push(line);
    else if (line.trim() && !/^<\/?[a-z-]+>$/i.test(line.trim())) unplaced.push(line);
  }
  const sections: Partial<SummarySections> = {};
  for (const [key, lines] of Object.entries(found) as Array<[SectionKey, string[]]>) {
    const value = lines.join('\n').trim();
    sections[key] = value === '(none)' ? '' : value;
  }
  return { found: sections, unplaced: unplaced.join('\n').trim() };
}

/** Sections that only grow or change: an empty reply for one of them is a careless reply, not an update. */
const NEVER_EMPTIED: ReadonlySet<SectionKey> = new Set([
  'goal',
  'constraints',
  'done',
  'decisions',
  'critical_context',
]);

/**
 * The updated summary: each section the reply has replaces the previous one (the summariser was
 * told to update in place); a section it lacks, or empties though it only grows, keeps the
 * previous content. Text under no known heading becomes this round's notes.
 */
export function mergeSections(previous: SummarySections | null, reply: string): SummarySections {
  const { found, unplaced } = parseSections(reply);
  const merged = { ...(previous ?? emptySections()) };
  for (const key of SECTION_KEYS) {
    const value = found[key];
    if (value === undefined || (value === '' && NEVER_EMPTIED.has(key))) continue;
    merged[key] = value;
  }
  if (found.notes === undefined) merged.notes = unplaced;
  else if (unplaced) merged.notes = `${found.notes}\n${unplaced}`.trim();
  return merged;
}
