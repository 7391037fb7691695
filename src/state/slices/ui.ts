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

/** No layer selected (a module constant: a selector never returns a fresh []). */
export const NO_SELECTION: readonly LayerName[] = [];

export interface UiSlice {
  /** The layer the inspector shows (the last one clicked). */
  selected: LayerName | null;
  /**
   * Every selected layer, `selected` among them (Shift/Ctrl-click in the table or the graph): what
   * "Set selection to …" sets, in one edit.
   */
  selection: readonly LayerName[];
  metric: Metric;
  messages: Message[];
  bottomTab: 'layers' | 'data' | 'search' | 'export' | 'outputs';
  /** One layer selected (or none): the multi-selection becomes that layer alone. */
  select: (layer: LayerName | null) => void;
  /** Several layers selected; `primary` (shown in the inspector) defaults to the last. */
  setSelection: (layers: readonly LayerName[], primary?: LayerName | null) => void;
  setMetric: (metric: Metric) => void;
  setBottomTab: (tab: UiSlice['bottomTab']) => void;
  notify: (kind: Message['kind'], text: string) => void;
  dismiss: (id: number) => void;
  /** Messages shown so far: the next one's id. */
  messageCount: number;
}

export const createUiSlice: StateCreator<AppState, [], [], UiSlice> = (set, get) => ({
  selected: null,
  selection: NO_SELECTION,
  metric: 'cos',
  messages: [],
  messageCount: 0,
  bottomTab: 'layers',
  select: (selected) => set({ selected, selection: selected === null ? NO_SELECTION : [selected] }),
  setSelection: (layers, primary) => set({ selection: layers.length ? layers : NO_SELECTION, selected: primary !== undefined ? primary : layers.length ? layers[layers.length - 1] : null }),
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
