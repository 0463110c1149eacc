import { elementScroll, observeElementOffset, observeElementRect, Virtualizer, type VirtualizerOptions } from '@tanstack/virtual-core';
import { useLayoutEffect, useReducer, useState } from 'preact/hooks';

/** @tanstack/virtual-core bound to a Preact component (what its React adapter does, in a few lines). */
export function useVirtualRows(count: number, rowHeight: number, scrollElement: () => HTMLElement | null): Virtualizer<HTMLElement, Element> {
  const [, rerender] = useReducer((n: number) => n + 1, 0);
  const options: VirtualizerOptions<HTMLElement, Element> = {
    count,
    estimateSize: () => rowHeight,
    overscan: 12,
    getScrollElement: scrollElement,
    observeElementRect,
    observeElementOffset,
    scrollToFn: elementScroll,
    onChange: () => rerender(0),
  };
  const [instance] = useState(() => new Virtualizer(options));
  instance.setOptions(options);
  useLayoutEffect(() => instance._didMount(), []);
  useLayoutEffect(() => instance._willUpdate());
  return instance;
}
