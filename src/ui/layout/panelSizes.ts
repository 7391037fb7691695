import { useCallback, useEffect, useState } from 'react';

/** The bottom panel's height and the inspector's width, in CSS px. */
export interface PanelSizes {
  readonly bottom: number;
  readonly inspector: number;
}

const KEY = 'qbench.panels';
/** Room the graph keeps, whatever the splitters say: its toolbar, minimap and legend must fit. */
const GRAPH_MIN_HEIGHT = 200;
const GRAPH_MIN_WIDTH = 380;
export const BOTTOM_MIN = 120;
export const INSPECTOR_MIN = 240;

/** Limits for the current window: the splitters move within them, and a smaller window shrinks stored sizes. */
export function panelLimits(): { bottom: [number, number]; inspector: [number, number] } {
  const h = typeof window === 'undefined' ? 800 : window.innerHeight;
  const w = typeof window === 'undefined' ? 1280 : window.innerWidth;
  return {
    // The header and notes take about 60-110 px above the graph.
    bottom: [BOTTOM_MIN, Math.max(BOTTOM_MIN, h - 110 - GRAPH_MIN_HEIGHT)],
    inspector: [INSPECTOR_MIN, Math.max(INSPECTOR_MIN, w - GRAPH_MIN_WIDTH)],
  };
}

/**
 * Sizes a window opens with, before the user drags: the bottom panel takes about a third of the
 * height (7 rows at 700 px, 12 at 1080), the inspector a quarter of the width within 280-380 px.
 */
export function defaultSizes(): PanelSizes {
  const h = typeof window === 'undefined' ? 800 : window.innerHeight;
  const w = typeof window === 'undefined' ? 1280 : window.innerWidth;
  return { bottom: Math.round(Math.min(420, Math.max(200, h * 0.34))), inspector: Math.round(Math.min(380, Math.max(280, w * 0.24))) };
}

const clamp = (v: number, [lo, hi]: [number, number]) => Math.min(hi, Math.max(lo, v));

function stored(): Partial<PanelSizes> {
  try {
    const value: unknown = JSON.parse(localStorage.getItem(KEY) ?? '{}');
    if (typeof value !== 'object' || value === null) return {};
    const { bottom, inspector } = value as Record<string, unknown>;
    return { ...(typeof bottom === 'number' && Number.isFinite(bottom) ? { bottom } : {}), ...(typeof inspector === 'number' && Number.isFinite(inspector) ? { inspector } : {}) };
  } catch {
    return {}; // storage off or a value from elsewhere: the defaults
  }
}

/**
 * The panel sizes the splitters set, remembered in localStorage (a size is a preference of this
 * browser, not of a session), clamped to the window on every resize.
 */
export function usePanelSizes(): [PanelSizes, (change: Partial<PanelSizes>) => void] {
  const [wanted, setWanted] = useState<PanelSizes>(() => ({ ...defaultSizes(), ...stored() }));
  const [, setWindowSize] = useState(0);
  useEffect(() => {
    const resized = () => setWindowSize((n) => n + 1);
    window.addEventListener('resize', resized);
    return () => window.removeEventListener('resize', resized);
  }, []);
  const update = useCallback((change: Partial<PanelSizes>) => {
    setWanted((current) => {
      const limits = panelLimits();
      const next = {
        bottom: Math.round(clamp(change.bottom ?? current.bottom, limits.bottom)),
        inspector: Math.round(clamp(change.inspector ?? current.inspector, limits.inspector)),
      };
      try {
        localStorage.setItem(KEY, JSON.stringify(next));
      } catch {
        // a full or disabled storage only loses the preference
      }
      return next;
    });
  }, []);
  const limits = panelLimits();
  return [{ bottom: clamp(wanted.bottom, limits.bottom), inspector: clamp(wanted.inspector, limits.inspector) }, update];
}
