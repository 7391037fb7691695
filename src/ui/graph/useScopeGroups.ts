import { useCallback, useEffect, useMemo, useState } from 'react';
import type { GraphLayout } from '../../core/layout/GraphLayout';
import { findGroups } from '../../core/layout/blockGroups';
import { collapseGroups, type ScopeGroup } from '../../core/layout/scopeGroups';
import type { LayerName, ModelGraph } from '../../core/model/ModelGraph';
import { layOutView } from '../../state/actions';

/**
 * Above this many layers a model opens with its groups collapsed: a few hundred boxes lay out in
 * well under a second and pan smoothly, where 10,000 take seconds and drag (issue 13).
 */
export const COLLAPSE_ABOVE = 1500;

/** What the graph view draws: the model's graph, or a collapsed one with its own layout. */
export interface GroupedView {
  readonly graph: ModelGraph;
  /** null while the worker lays the collapsed graph out. */
  readonly layout: GraphLayout | null;
  /** Collapsed groups (boxes in `graph`), by id. */
  readonly collapsed: ReadonlyMap<string, ScopeGroup>;
  /** The collapsed group each hidden layer is in. */
  readonly groupOf: ReadonlyMap<LayerName, string>;
  /** How many groups the model has (0: a small model without name scopes, nothing to collapse). */
  readonly groupCount: number;
  readonly toggle: (id: string) => void;
  readonly expandGroupOf: (layer: LayerName) => void;
  readonly collapseAll: () => void;
  readonly expandAll: () => void;
}

const NONE: ReadonlySet<string> = new Set();

/**
 * Collapsible groups by name scope (`/model.22/...`), or by repeated block for a big model without
 * usable scopes (core/layout/blockGroups.ts): which are collapsed, the graph and layout to draw.
 */
export function useScopeGroups(graph: ModelGraph, modelLayout: GraphLayout | null): GroupedView {
  const groups = useMemo(() => findGroups(graph), [graph]);
  const byId = useMemo(() => new Map(groups.map((g) => [g.id, g])), [groups]);
  const defaultCollapsed = useCallback(() => (graph.nodes.length > COLLAPSE_ABOVE ? new Set(groups.map((g) => g.id)) : NONE), [graph, groups]);
  const [state, setState] = useState(() => ({ graph, collapsed: defaultCollapsed() }));
  // Another model: its own default.
  let collapsedIds = state.collapsed;
  if (state.graph !== graph) {
    collapsedIds = defaultCollapsed();
    setState({ graph, collapsed: collapsedIds });
  }

  const shown = useMemo(() => collapseGroups(graph, groups, collapsedIds), [graph, groups, collapsedIds]);
  const [own, setOwn] = useState<{ graph: ModelGraph; layout: GraphLayout } | null>(null);
  useEffect(() => {
    if (shown === graph) return;
    let live = true;
    layOutView(shown).then(
      (layout) => {
        if (live) setOwn({ graph: shown, layout });
      },
      // A collapsed graph that cannot be laid out: the model as it is (its own layout, from the store).
      () => {
        if (live) setState((s) => ({ ...s, collapsed: NONE }));
      },
    );
    return () => {
      live = false;
    };
  }, [shown, graph]);

  const collapsed = useMemo(() => new Map([...collapsedIds].filter((id) => byId.has(id)).map((id) => [id, byId.get(id)!])), [collapsedIds, byId]);
  const groupOf = useMemo(() => {
    const map = new Map<LayerName, string>();
    for (const g of collapsed.values()) for (const m of g.members) map.set(m, g.id);
    return map;
  }, [collapsed]);

  const update = useCallback((change: (ids: ReadonlySet<string>) => ReadonlySet<string>) => setState((s) => ({ ...s, collapsed: change(s.collapsed) })), []);
  const toggle = useCallback((id: string) => update((ids) => {
    const next = new Set(ids);
    if (!next.delete(id)) next.add(id);
    return next;
  }), [update]);
  const expandGroupOf = useCallback((layer: LayerName) => {
    const id = groupOf.get(layer);
    if (id) toggle(id);
  }, [groupOf, toggle]);
  const collapseAll = useCallback(() => update(() => new Set(groups.map((g) => g.id))), [update, groups]);
  const expandAll = useCallback(() => update(() => NONE), [update]);

  const layout = shown === graph ? modelLayout : own?.graph === shown ? own.layout : null;
  return { graph: shown, layout, collapsed, groupOf, groupCount: groups.length, toggle, expandGroupOf, collapseAll, expandAll };
}
