import { useCallback, useEffect, useMemo, useRef } from 'react';
import { isGroupId } from '../../core/layout/scopeGroups';
import { GraphView, type GraphViewProps, type GroupControls } from './GraphView';
import type { NodeDetails } from './GraphTooltip';
import { useScopeGroups } from './useScopeGroups';

export interface ScopedGraphViewProps extends GraphViewProps {
  /** Which end of the heat values is the bad one: a group shows its worst member. */
  readonly worseIsHigher: boolean;
  /** A heat value as a group box says it (`cos 0.912345`). */
  readonly formatHeat: (value: number) => string;
}

/**
 * GraphView with collapsible groups, by name scope (`/model.22/...`) or, in a big model without
 * scopes, by repeated block (`Conv…Relu ×8`) or chunk of the layer order: a collapsed group is one box
 * coloured by its worst layer, saying that figure; a click opens it; a model above 1,500 layers
 * opens with every group collapsed; a layer selected elsewhere inside a collapsed group opens it.
 */
export function ScopedGraphView({ worseIsHigher, formatHeat, ...props }: ScopedGraphViewProps) {
  const { graph, layout, heat, describe, selected, onSelect, onSelectMany } = props;
  const view = useScopeGroups(graph, layout);
  const { collapsed, groupOf, expandGroupOf } = view;

  // A box selection over collapsed groups selects their layers and leaves the groups closed.
  const boxedRef = useRef<string | null>(null);
  const selectMany = useCallback((layers: readonly string[], add: boolean) => {
    boxedRef.current = layers[layers.length - 1] ?? null;
    if (onSelectMany) onSelectMany(layers, add);
    else layers.forEach((layer, i) => onSelect(layer, { toggle: false, add: add || i > 0 }));
  }, [onSelect, onSelectMany]);

  useEffect(() => {
    if (selected !== boxedRef.current) boxedRef.current = null;
    if (selected !== null && groupOf.has(selected) && boxedRef.current === null) expandGroupOf(selected);
  }, [selected, groupOf, expandGroupOf]);

  // Each collapsed group's worst member: its colour, its figure and the layer it comes from.
  const worst = useMemo(() => {
    const out = new Map<string, { value: number; layer: string }>();
    if (!heat) return out;
    for (const g of collapsed.values()) {
      let best: { value: number; layer: string } | undefined;
      for (const m of g.members) {
        const v = heat.get(m);
        if (v === undefined || Number.isNaN(v)) continue;
        if (!best || (worseIsHigher ? v > best.value : v < best.value)) best = { value: v, layer: m };
      }
      if (best) out.set(g.id, best);
    }
    return out;
  }, [heat, collapsed, worseIsHigher]);
  const shownHeat = useMemo(() => {
    if (!heat || worst.size === 0) return heat;
    const merged = new Map(heat);
    for (const [id, w] of worst) merged.set(id, w.value);
    return merged;
  }, [heat, worst]);

  const controls = useMemo<GroupControls>(() => ({
    collapsed, groupOf, count: view.groupCount,
    text: new Map([...worst].map(([id, w]) => [id, formatHeat(w.value)])),
    toggle: view.toggle, collapseAll: view.collapseAll, expandAll: view.expandAll,
  }), [collapsed, groupOf, view.groupCount, worst, formatHeat, view.toggle, view.collapseAll, view.expandAll]);

  const describeShown = useCallback((id: string): NodeDetails | null => {
    const group = isGroupId(id) ? collapsed.get(id) : undefined;
    if (!group) return describe ? describe(id) : null;
    const w = worst.get(id);
    const rows: [string, string][] = w ? [['Worst', formatHeat(w.value)], ['in', w.layer]] : [];
    if (group.pattern) rows.push(['Block', group.pattern]);
    if (group.kind) rows.push(['From', group.members[0]], ['to', group.members[group.members.length - 1]]);
    return { title: group.scope, subtitle: `${group.members.length} layers · click to open`, rows };
  }, [collapsed, worst, describe, formatHeat]);

  return <GraphView {...props} onSelectMany={selectMany} graph={view.graph} layout={view.layout} model={graph} heat={shownHeat} describe={describeShown} groups={view.groupCount > 0 ? controls : undefined} />;
}
