import type { StateCreator } from 'zustand';
import type { AppState } from '../store';
import type { LayerName } from '../../core/model/ModelGraph';

/**
 * What the graph is coloured by: a per-layer accumulated error (cos, sqnr, mse), the local cosine
 * (the layer alone quantized, fed float inputs), or the float gain / the searches' sensitivity.
 */
export type Metric = 'cos' | 'local' | 'mse' | 'sqnr' | 'sensitivity';

export interface Message {
  readonly id: number;
  readonly kind: 'error' | 'info';
  readonly text: string;
}

export interface UiSlice {
  selected: LayerName | null;
  metric: Metric;
  messages: Message[];
  bottomTab: 'layers' | 'data' | 'search' | 'export' | 'outputs';
  select: (layer: LayerName | null) => void;
  setMetric: (metric: Metric) => void;
  setBottomTab: (tab: UiSlice['bottomTab']) => void;
  notify: (kind: Message['kind'], text: string) => void;
  dismiss: (id: number) => void;
  /** Messages shown so far: the next one's id. */
  messageCount: number;
}

export const createUiSlice: StateCreator<AppState, [], [], UiSlice> = (set, get) => ({
  selected: null,
  metric: 'cos',
  messages: [],
  messageCount: 0,
  bottomTab: 'layers',
  select: (selected) => set({ selected }),
  setMetric: (metric) => set({ metric }),
  setBottomTab: (bottomTab) => set({ bottomTab }),
  notify: (kind, text) => {
    const id = get().messageCount + 1;
    set((s) => ({ messageCount: id, messages: [...s.messages.filter((m) => m.text !== text), { id, kind, text }] }));
    // Notes leave by themselves; errors stay until dismissed.
    if (kind === 'info') setTimeout(() => set((s) => ({ messages: s.messages.filter((m) => m.id !== id) })), 8000);
  },
  dismiss: (id) => set((s) => ({ messages: s.messages.filter((m) => m.id !== id) })),
});
