import { useEffect, useState } from 'preact/hooks';

/** The rows to draw: indexes [start, end) and where the first one goes. */
export interface VisibleRows {
  start: number;
  end: number;
  /** Height of all rows, for the scroll area. */
  totalHeight: number;
}

/**
 * Windowing for rows of one fixed height: only the rows in view (plus `overscan` on each side)
 * are in the DOM, so 10,000 runs cost as much to draw as 40. Fixed heights make it arithmetic
 * (index = scrollTop / height); @tanstack/virtual-core was tried first, but its measured sizes
 * came back 0 under Preact, and nothing here needs measuring.
 */
export function useVisibleRows(count: number, rowHeight: number, scroller: { current: HTMLElement | null }, overscan = 10): VisibleRows {
  const [view, setView] = useState({ top: 0, height: 900 });
  useEffect(() => {
    const el = scroller.current;
    if (!el) return;
    let frame = 0;
    const update = () => {
      cancelAnimationFrame(frame);
      frame = requestAnimationFrame(() => setView({ top: el.scrollTop, height: el.clientHeight }));
    };
    update();
    el.addEventListener('scroll', update, { passive: true });
    const resize = new ResizeObserver(update);
    resize.observe(el);
    return () => {
      cancelAnimationFrame(frame);
      el.removeEventListener('scroll', update);
      resize.disconnect();
    };
  }, [scroller.current]);
  const first = Math.max(0, Math.floor(view.top / rowHeight) - overscan);
  const last = Math.min(count, Math.ceil((view.top + view.height) / rowHeight) + overscan);
  return { start: Math.min(first, count), end: last, totalHeight: count * rowHeight };
}
