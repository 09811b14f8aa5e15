import {
  elementScroll,
  observeElementOffset,
  observeElementRect,
  Virtualizer,
  type VirtualizerOptions,
} from '@tanstack/virtual-core';
import type { ComponentChildren, Ref } from 'preact';
import { useLayoutEffect, useReducer, useRef, useState } from 'preact/hooks';

interface Props<T> {
  items: readonly T[];
  keyOf(item: T): string;
  render(item: T, index: number): ComponentChildren;
  estimate?: number;
  /** Chat mode: start at the bottom, stay there while it grows (if the reader is there). */
  stickToEnd?: boolean;
  class?: string;
  label: string;
  /** Lets the owner scroll (to the end, to an item). */
  handle?: Ref<Virtualizer<HTMLDivElement, HTMLDivElement>>;
}

/**
 * Only the rows near the viewport exist in the DOM (TanStack's virtual-core measures each
 * rendered row), so a 5,000-entry session scrolls as smoothly as a short one.
 */
export function VirtualList<T>({
  items,
  keyOf,
  render,
  estimate = 120,
  stickToEnd = false,
  class: cls,
  label,
  handle,
}: Props<T>) {
  const scroller = useRef<HTMLDivElement>(null);
  const [, rerender] = useReducer((n: number) => n + 1, 0);
  const options: VirtualizerOptions<HTMLDivElement, HTMLDivElement> = {
    count: items.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => estimate,
    getItemKey: (index) => keyOf(items[index]!),
    overscan: 6,
    scrollToFn: elementScroll,
    observeElementRect,
    observeElementOffset,
    anchorTo: stickToEnd ? 'end' : 'start',
    followOnAppend: stickToEnd,
    ...(stickToEnd ? { initialOffset: () => Number.MAX_SAFE_INTEGER } : {}),
    onChange: () => rerender(0),
  };
  const [virtualizer] = useState(() => new Virtualizer<HTMLDivElement, HTMLDivElement>(options));
  virtualizer.setOptions(options);
  if (handle) {
    if (typeof handle === 'function') handle(virtualizer);
    else handle.current = virtualizer;
  }
  useLayoutEffect(() => virtualizer._didMount(), []);
  useLayoutEffect(() => virtualizer._willUpdate());
  const rows = virtualizer.getVirtualItems();
  return (
    <section ref={scroller} class={`vlist ${cls ?? ''}`} aria-label={label} tabIndex={-1}>
      <div class="vlist-inner" style={{ height: `${virtualizer.getTotalSize()}px` }}>
        {rows.map((row) => (
          <div
            key={row.key}
            data-index={row.index}
            ref={virtualizer.measureElement}
            class="vlist-row"
            style={{ transform: `translateY(${row.start}px)` }}
          >
            {render(items[row.index]!, row.index)}
          </div>
        ))}
      </div>
    </section>
  );
}
