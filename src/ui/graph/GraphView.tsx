import { color as parseColor, curveBasis, line, select, zoom as d3zoom, zoomIdentity, type ZoomBehavior, type ZoomTransform } from 'd3';
import { memo, useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState, type KeyboardEvent, type MouseEvent, type PointerEvent, type ReactElement } from 'react';
import { inputNodeId, outputNodeId, type GraphLayout, type LayoutEdge, type LayoutNode } from '../../core/layout/GraphLayout';
import { layerLabel, terminalLabel, type NodeLabelText } from '../../core/layout/nodeLabel';
import type { ScopeGroup } from '../../core/layout/scopeGroups';
import type { ModelGraph } from '../../core/model/ModelGraph';
import { neighbour, type Direction } from './graphNavigation';
import { searchGraph } from './graphSearch';
import { GraphTooltip, type NodeDetails } from './GraphTooltip';
import { Minimap, minimapScale } from './Minimap';
import { farLabel } from './opAbbreviation';
import { fitAll, fitWidth, READABLE_ZOOM, viewCentreY } from './viewFit';
import './GraphView.css';
import './selection.css';

export type { NodeDetails } from './GraphTooltip';

export interface GraphViewProps {
  graph: ModelGraph;
  /** null while the worker computes: the view shows "Laying out N nodes…". */
  layout: GraphLayout | null;
  /** Heat value per layer (e.g. cosine, MSE or SQNR); absent (or NaN) layers draw neutral. */
  heat: ReadonlyMap<string, number> | null;
  /** Maps a heat value to a colour; the parent owns the scale so the legend matches. */
  colorOf: (value: number) => string;
  /** Marks layers whose precision is not the default (e.g. 'FP32', 'FP16', 'INT16') with a small badge. */
  badges: ReadonlyMap<string, string>;
  selected: string | null;
  /** Every selected layer (Shift/Ctrl-click, the table's multi-selection), drawn outlined; `selected` among them. */
  selection?: readonly string[];
  /** A click: `keys` says whether Ctrl/Cmd (toggle) or Shift (add) was held (issue #13 multi-select). */
  onSelect: (layer: string | null, keys?: { readonly toggle: boolean; readonly add: boolean }) => void;
  /**
   * A box selection: the layers in the rectangle, added to the selection (`add`, Shift+drag) or
   * replacing it; the last one is meant as the primary. Absent: the view adds them one by one
   * through `onSelect` (a plain select, then adds).
   */
  onSelectMany?: (layers: readonly string[], add: boolean) => void;
  /** The hover tooltip's text for a node id (layer name or terminal id); null: no tooltip. */
  describe?: (id: string) => NodeDetails | null;
  /** The model's graph when `graph` is a collapsed view of it: search looks through it, and a new one clears the search. */
  model?: ModelGraph;
  /** Collapsible name-scope groups (useScopeGroups); absent: the model has none. */
  groups?: GroupControls;
}

/** What GraphView needs of the scope groups: which are boxes now, and how to open and close them. */
export interface GroupControls {
  readonly collapsed: ReadonlyMap<string, ScopeGroup>;
  readonly groupOf: ReadonlyMap<string, string>;
  readonly count: number;
  /** A box's second line: its worst error (`cos 0.9123`); the title says its scope and size. */
  readonly text: ReadonlyMap<string, string>;
  readonly toggle: (id: string) => void;
  readonly collapseAll: () => void;
  readonly expandAll: () => void;
}

/**
 * Semantic zoom. Below READABLE_ZOOM names are too small to read: boxes show their op type, big
 * ("mid"); below FAR_ZOOM even that is a speck: coloured blocks only, no text, no arrowheads, so
 * panning stays cheap. The hover tooltip names any box at any zoom.
 */
const FAR_ZOOM = 0.28;
const MAX_ZOOM = 4;
/** Zoom used to show one layer (search, selection from elsewhere) when the view is further out. */
const FOCUS_ZOOM = 0.9;
const EDGES_PER_PATH = 96;

/**
 * The model graph as a layered DAG with a per-layer heat colour. Pan and zoom go through d3-zoom,
 * which moves one <g>: React renders the boxes once per layout and never during a gesture; heat,
 * selection and search marks are applied to the existing elements directly.
 */
export function GraphView({ graph, layout, heat, colorOf, badges, selected, selection, onSelect, onSelectMany, describe, model = graph, groups }: GraphViewProps) {
  const svgRef = useRef<SVGSVGElement>(null);
  const viewportRef = useRef<SVGGElement>(null);
  const zoomRef = useRef<ZoomBehavior<SVGSVGElement, unknown> | null>(null);
  const transformRef = useRef<ZoomTransform>(zoomIdentity);
  const elementsRef = useRef(new Map<string, SVGGElement>());
  const badgeElementsRef = useRef(new Map<string, SVGGElement>());
  /** Ids of the boxes that currently draw their text (those in or near the viewport). */
  const labelledRef = useRef(new Set<string>());
  const focusingRef = useRef<string | null>(null);
  const minimapViewRef = useRef<HTMLDivElement>(null);
  const tooltipRef = useRef<HTMLDivElement>(null);
  /** A node to keep in view when a group opens or closes (the layout changes under the user). */
  const keepViewRef = useRef<string | null>(null);
  const groupOfRef = useRef(groups?.groupOf);
  groupOfRef.current = groups?.groupOf;
  /** Box selection: the toolbar's toggle (a plain drag draws the box) and the drag under way. */
  const [boxMode, setBoxMode] = useState(false);
  const boxModeRef = useRef(boxMode);
  boxModeRef.current = boxMode;
  const boxRef = useRef<HTMLDivElement>(null);
  const boxDragRef = useRef<{ x0: number; y0: number; x1: number; y1: number; add: boolean; pointer: number } | null>(null);
  /** The click that ends a box drag is not a click on a node. */
  const swallowClickRef = useRef(false);

  const labels = useMemo(() => labelsOf(graph), [graph]);
  const opTypes = useMemo(() => new Map(graph.nodes.map((n) => [n.name, n.opType])), [graph]);
  const nodeById = useMemo(() => new Map((layout?.nodes ?? []).map((n) => [n.id, n])), [layout]);
  const byTop = useMemo(() => [...(layout?.nodes ?? [])].sort((a, b) => a.y - a.height / 2 - (b.y - b.height / 2)), [layout]);
  // A layout of another graph (a new model while its layout is computed) counts as pending.
  const ready = layout !== null && graph.nodes.every((n) => nodeById.has(n.name));
  const minimap = useMemo(() => (layout ? minimapScale(layout) : null), [layout]);
  /** The first input's box: where a deep, wide model opens. */
  const firstInput = useMemo(() => (graph.inputs[0] ? nodeById.get(inputNodeId(graph.inputs[0].name)) : undefined) ?? byTop[0], [graph, nodeById, byTop]);

  // --- zoom --------------------------------------------------------------------------------------
  const viewSize = useCallback((): [number, number] => {
    const svg = svgRef.current;
    return [svg?.clientWidth || 800, svg?.clientHeight || 600];
  }, []);

  const animateTo = useCallback((transform: ZoomTransform, durationMs = 300) => {
    const svg = svgRef.current;
    const zoom = zoomRef.current;
    if (!svg || !zoom) return;
    if (durationMs > 0) select(svg).transition().duration(durationMs).call(zoom.transform, transform);
    else select(svg).call(zoom.transform, transform);
  }, []);

  /** Fit: the drawing's width, at the rows shown now (a deep model stays readable; see viewFit.ts). */
  const fitTransform = useCallback((): ZoomTransform => {
    if (!layout) return zoomIdentity;
    const size = viewSize();
    return fitWidth(layout, size, { centreY: viewCentreY(transformRef.current, size[1]), anchor: firstInput });
  }, [layout, viewSize, firstInput]);

  const centreOn = useCallback(
    (node: LayoutNode, durationMs = 300) => {
      const [w, h] = viewSize();
      const k = Math.min(Math.max(transformRef.current.k, FOCUS_ZOOM), 2);
      animateTo(zoomIdentity.translate(w / 2 - node.x * k, h / 2 - node.y * k).scale(k), durationMs);
    },
    [animateTo, viewSize],
  );

  useEffect(() => {
    const svg = svgRef.current;
    const viewport = viewportRef.current;
    if (!ready || !svg || !viewport || !layout) return;
    const [w, h] = viewSize();
    const overview = fitAll(layout, [w, h]);
    let level: 'far' | 'mid' | 'near' | null = null;
    labelledRef.current = new Set();
    let covered: Rect | null = null;
    // Chrome lays out every SVG <text> again whenever the scale of its transform changes (about
    // 100 ms per frame for 4,000 texts on this machine), so only boxes in or near the viewport
    // draw text; the rest are culled with a class, refreshed when the view leaves the covered area.
    const updateLabels = (t: ZoomTransform) => {
      if (t.k < FAR_ZOOM) return;
      const [vw, vh] = viewSize();
      const view = { x0: -t.x / t.k, y0: -t.y / t.k, x1: (vw - t.x) / t.k, y1: (vh - t.y) / t.k };
      if (covered && view.x0 >= covered.x0 && view.y0 >= covered.y0 && view.x1 <= covered.x1 && view.y1 <= covered.y1 && covered.y1 - covered.y0 < 3 * (view.y1 - view.y0)) return;
      const padX = (view.x1 - view.x0) / 2;
      const padY = (view.y1 - view.y0) / 2;
      covered = { x0: view.x0 - padX, y0: view.y0 - padY, x1: view.x1 + padX, y1: view.y1 + padY };
      const next = nodesIn(byTop, covered);
      const previous = labelledRef.current;
      const mark = (id: string, on: boolean) => {
        elementsRef.current.get(id)?.classList.toggle('is-labelled', on);
        badgeElementsRef.current.get(id)?.classList.toggle('is-labelled', on);
      };
      for (const id of previous) if (!next.has(id)) mark(id, false);
      for (const id of next) if (!previous.has(id)) mark(id, true);
      labelledRef.current = next;
    };
    const mini = minimap;
    const updateMinimap = (t: ZoomTransform) => {
      const box = minimapViewRef.current;
      if (!box || !mini) return;
      const [vw, vh] = viewSize();
      const x0 = Math.max(0, (-t.x / t.k) * mini.sx);
      const y0 = Math.max(0, (-t.y / t.k) * mini.sy);
      const x1 = Math.min(mini.width, ((vw - t.x) / t.k) * mini.sx);
      const y1 = Math.min(mini.height, ((vh - t.y) / t.k) * mini.sy);
      box.style.transform = `translate(${x0}px, ${y0}px)`;
      box.style.width = `${Math.max(2, x1 - x0)}px`;
      box.style.height = `${Math.max(2, y1 - y0)}px`;
    };
    const zoom = d3zoom<SVGSVGElement, unknown>()
      // d3's default filter, less the drags that draw a selection box (Shift, or the Box toggle).
      .filter((event: { type: string; ctrlKey: boolean; shiftKey: boolean; button: number }) => (!event.ctrlKey || event.type === 'wheel') && !event.button
        && !(event.type === 'mousedown' && (event.shiftKey || boxModeRef.current)))
      .scaleExtent([Math.min(0.05, overview.k * 0.8), MAX_ZOOM])
      .extent(() => [[0, 0], viewSize()])
      .translateExtent([[-w, -h], [layout.width + w, layout.height + h]])
      .on('zoom', (event: { transform: ZoomTransform }) => {
        const t = event.transform;
        transformRef.current = t;
        viewport.setAttribute('transform', t.toString());
        const now = t.k < FAR_ZOOM ? 'far' : t.k < READABLE_ZOOM ? 'mid' : 'near';
        if (now !== level) {
          level = now;
          viewport.classList.toggle('is-far', now === 'far');
          viewport.classList.toggle('is-mid', now === 'mid');
          svg.dataset.zoomLevel = now;
        }
        updateLabels(t);
        updateMinimap(t);
      });
    zoomRef.current = zoom;
    const selection = select(svg).call(zoom).on('dblclick.zoom', null);
    // Every model opens fitted to the view's width at its top (its inputs), names readable: a
    // deep model fitted whole is a column of specks (issue 13). The minimap shows the rest.
    // After a group opened or closed, the view stays on it; a new model opens at its top.
    const keepId = keepViewRef.current === null ? null : groupOfRef.current?.get(keepViewRef.current) ?? keepViewRef.current;
    const keep = keepId === null ? undefined : nodeById.get(keepId);
    keepViewRef.current = null;
    if (keep) {
      const k = Math.max(transformRef.current.k, READABLE_ZOOM);
      selection.call(zoom.transform, zoomIdentity.translate(w / 2 - keep.x * k, h / 2 - keep.y * k).scale(k));
    } else selection.call(zoom.transform, fitWidth(layout, [w, h], { top: true, anchor: firstInput }));
    // A container that grows shows area the label culling has not covered yet.
    const resize = typeof ResizeObserver === 'undefined' ? null : new ResizeObserver(() => {
      covered = null;
      updateLabels(transformRef.current);
      updateMinimap(transformRef.current);
    });
    resize?.observe(svg);
    return () => {
      resize?.disconnect();
      selection.interrupt().on('.zoom', null);
      zoomRef.current = null;
      for (const id of labelledRef.current) {
        elementsRef.current.get(id)?.classList.remove('is-labelled');
        badgeElementsRef.current.get(id)?.classList.remove('is-labelled');
      }
      labelledRef.current = new Set();
    };
  }, [ready, layout, byTop, firstInput, minimap, viewSize, nodeById]);

  const zoomBy = (factor: number) => {
    const svg = svgRef.current;
    const zoom = zoomRef.current;
    if (svg && zoom) select(svg).transition().duration(200).call(zoom.scaleBy, factor);
  };

  // --- element index, heat, selection ---------------------------------------------------------------
  useLayoutEffect(() => {
    const map = new Map<string, SVGGElement>();
    if (ready) for (const el of viewportRef.current?.querySelectorAll<SVGGElement>('g[data-node-id]') ?? []) map.set(el.dataset.nodeId!, el);
    elementsRef.current = map;
  }, [ready, layout]);

  useLayoutEffect(() => {
    const map = new Map<string, SVGGElement>();
    if (ready) for (const el of viewportRef.current?.querySelectorAll<SVGGElement>('g.qg-badge[data-layer]') ?? []) map.set(el.dataset.layer!, el);
    for (const [id, el] of map) el.classList.toggle('is-labelled', labelledRef.current.has(id));
    badgeElementsRef.current = map;
  }, [ready, badges, nodeById]);

  useLayoutEffect(() => {
    if (!ready) return;
    const cache = new Map<string, boolean>();
    for (const [id, el] of elementsRef.current) {
      const rect = el.firstElementChild as SVGRectElement | null;
      if (!rect) continue;
      const value = heat?.get(id);
      // An exact layer (SQNR +Infinity, MSE 0) has a colour, the lightest; only no value is neutral.
      if (value === undefined || Number.isNaN(value)) {
        rect.style.removeProperty('fill');
        el.classList.remove('is-heat', 'is-light');
        continue;
      }
      const fill = colorOf(value);
      let light = cache.get(fill);
      if (light === undefined) cache.set(fill, (light = isLight(fill)));
      rect.style.fill = fill;
      el.classList.add('is-heat');
      el.classList.toggle('is-light', light);
    }
  }, [ready, layout, heat, colorOf]);

  useLayoutEffect(() => {
    if (!ready || selected === null) return;
    const el = elementsRef.current.get(selected);
    el?.classList.add('is-selected');
    return () => el?.classList.remove('is-selected');
  }, [ready, layout, selected]);

  // The rest of a multi-selection, outlined (classes on the existing boxes, as for `selected`).
  useLayoutEffect(() => {
    if (!ready || !selection || selection.length < 2) return;
    const marked = selection.map((id) => elementsRef.current.get(id)).filter((el): el is SVGGElement => !!el);
    for (const el of marked) el.classList.add('is-in-selection');
    return () => {
      for (const el of marked) el.classList.remove('is-in-selection');
    };
  }, [ready, layout, selection]);

  // A layer selected elsewhere (table, inspector) that is off screen: bring it into view.
  useEffect(() => {
    if (!ready || selected === null) return;
    if (focusingRef.current === selected) {
      focusingRef.current = null;
      return;
    }
    const node = nodeById.get(selected);
    if (!node) return;
    const t = transformRef.current;
    const [w, h] = viewSize();
    const [sx, sy] = t.apply([node.x, node.y]);
    const visible = t.k >= FAR_ZOOM / 2 && sx > 40 && sx < w - 40 && sy > 40 && sy < h - 40;
    if (!visible) centreOn(node);
  }, [ready, selected, nodeById, centreOn, viewSize]);

  const activeEdges = useMemo(() => {
    if (!layout || selected === null) return '';
    return edgePaths(layout.edges.filter((e) => e.from === selected || e.to === selected)).join('');
  }, [layout, selected]);

  // --- search ---------------------------------------------------------------------------------------
  const [query, setQuery] = useState('');
  const [matchIndex, setMatchIndex] = useState(-1);
  // Over the whole model, layers inside collapsed groups included; marks go on their group's box.
  const found = useMemo(() => (ready ? searchGraph(model, query) : []), [model, query, ready]);
  const matches = useMemo(() => found.map((m) => m.id), [found]);
  const shownOf = useCallback((id: string) => groups?.groupOf.get(id) ?? id, [groups]);
  // A new model starts with no search: an old query would dim the new graph (issue 13).
  const [searchedGraph, setSearchedGraph] = useState(model);
  if (searchedGraph !== model) {
    setSearchedGraph(model);
    setQuery('');
    setMatchIndex(-1);
  }

  useLayoutEffect(() => {
    const viewport = viewportRef.current;
    if (!ready || !viewport || !query.trim()) return;
    const marked = [...new Set(matches.map(shownOf))].map((id) => elementsRef.current.get(id)).filter((el): el is SVGGElement => !!el);
    viewport.classList.add('is-searching');
    for (const el of marked) el.classList.add('is-match');
    return () => {
      viewport.classList.remove('is-searching');
      for (const el of marked) el.classList.remove('is-match');
    };
  }, [ready, layout, matches, query, shownOf]);

  const step = (direction: 1 | -1) => {
    if (matches.length === 0) return;
    const next = matchIndex < 0 ? (direction === 1 ? 0 : matches.length - 1) : (matchIndex + direction + matches.length) % matches.length;
    setMatchIndex(next);
    const node = nodeById.get(shownOf(matches[next]));
    if (!node) return;
    if (node.id !== matches[next]) {
      // In a collapsed group: selecting it opens the group (GraphPanel), and the view stays on it.
      keepViewRef.current = matches[next];
      onSelect(matches[next]);
      return;
    }
    focusingRef.current = matches[next];
    centreOn(node);
    if (node.kind === 'layer') onSelect(matches[next]);
    setCursor(node.id);
  };

  const onSearchKey = (event: KeyboardEvent<HTMLInputElement>) => {
    if (event.key === 'Enter') {
      event.preventDefault();
      step(event.shiftKey ? -1 : 1);
    } else if (event.key === 'Escape') {
      setQuery('');
      setMatchIndex(-1);
      event.currentTarget.blur();
    }
  };

  // --- keyboard: a cursor moved with the arrows, Enter selects --------------------------------------
  const [cursor, setCursor] = useState<string | null>(null);
  const announce = cursor ? (labels.get(cursor)?.subtitle ? `${labels.get(cursor)!.title} ${cursor}` : cursor) : '';
  useLayoutEffect(() => {
    if (!ready || cursor === null) return;
    const el = elementsRef.current.get(cursor);
    el?.classList.add('is-cursor');
    return () => el?.classList.remove('is-cursor');
  }, [ready, layout, cursor]);
  if (cursor !== null && ready && !nodeById.has(cursor)) setCursor(null);

  const onGraphKey = (event: KeyboardEvent<SVGSVGElement>) => {
    if (!layout) return;
    const directions: Record<string, Direction> = { ArrowUp: 'up', ArrowDown: 'down', ArrowLeft: 'left', ArrowRight: 'right' };
    const direction = directions[event.key];
    if (direction) {
      event.preventDefault();
      const from = nodeById.get(cursor ?? selected ?? '') ?? null;
      const next = from ? neighbour(layout, nodeById, from, direction) : firstInput ?? null;
      if (!next) return;
      setCursor(next.id);
      const [w, h] = viewSize();
      const [sx, sy] = transformRef.current.apply([next.x, next.y]);
      if (sx < 60 || sx > w - 60 || sy < 60 || sy > h - 60) centreOn(next, 150);
    } else if (event.key === 'Enter' || event.key === ' ') {
      const node = cursor ? nodeById.get(cursor) : undefined;
      if (node && groups?.collapsed.has(node.id)) {
        event.preventDefault();
        toggleGroup(node.id);
      } else if (node?.kind === 'layer') {
        event.preventDefault();
        focusingRef.current = node.id;
        onSelect(node.id);
      }
    } else if (event.key === 'Escape') {
      setCursor(null);
    }
  };

  // --- hover tooltip ---------------------------------------------------------------------------------
  const [hovered, setHovered] = useState<string | null>(null);
  const details = useMemo(() => (hovered && describe ? describe(hovered) : null), [hovered, describe]);
  const onPointerMove = (event: PointerEvent<SVGSVGElement>) => {
    if (onBoxMove(event)) return;
    // No tooltip during a drag (buttons held): it would chase the pointer over the boxes panned under it.
    const target = event.buttons ? null : ((event.target as Element).closest('g[data-node-id]') as SVGGElement | null);
    const id = target?.dataset.nodeId ?? null;
    if (id !== hovered) setHovered(id);
    const tip = tooltipRef.current;
    const root = svgRef.current?.parentElement;
    if (tip && root && id) {
      const box = root.getBoundingClientRect();
      const x = event.clientX - box.left;
      const y = event.clientY - box.top;
      // Right of and below the pointer, flipped where it would leave the view.
      const left = x + 16 + 260 > box.width ? x - 16 - tip.offsetWidth : x + 16;
      const top = y + 16 + tip.offsetHeight > box.height ? Math.max(4, y - 12 - tip.offsetHeight) : y + 16;
      tip.style.transform = `translate(${Math.max(4, left)}px, ${top}px)`;
    }
  };

  // --- jumps -----------------------------------------------------------------------------------------
  const jumpRef = useRef({ inputs: -1, outputs: -1 });
  const jump = (end: 'inputs' | 'outputs') => {
    const ids = (end === 'inputs' ? graph.inputs.map((v) => inputNodeId(v.name)) : graph.outputs.map((v) => outputNodeId(v.name))).filter((id) => nodeById.has(id));
    if (ids.length === 0) return;
    // Each click goes to the next one (a detector has several outputs).
    const next = (jumpRef.current[end] + 1) % ids.length;
    jumpRef.current[end] = next;
    const node = nodeById.get(ids[next])!;
    setCursor(node.id);
    const [w, h] = viewSize();
    const k = Math.max(transformRef.current.k, READABLE_ZOOM);
    animateTo(zoomIdentity.translate(w / 2 - node.x * k, h / 2 - node.y * k).scale(k), 300);
  };

  const panTo = useCallback((x: number, y: number) => {
    const [w, h] = viewSize();
    const k = transformRef.current.k;
    animateTo(zoomIdentity.translate(w / 2 - x * k, h / 2 - y * k).scale(k), 0);
  }, [animateTo, viewSize]);

  // --- groups ---------------------------------------------------------------------------------------
  const toggleGroup = (id: string) => {
    const group = groups?.collapsed.get(id);
    if (!group) return;
    keepViewRef.current = group.members[0];
    setCursor(group.members[0]);
    groups?.toggle(id);
  };
  const collapseOrExpandAll = () => {
    if (!groups) return;
    keepViewRef.current = selected ?? cursor;
    if (groups.collapsed.size > 0) groups.expandAll();
    else groups.collapseAll();
  };

  // --- box selection -------------------------------------------------------------------------------
  // Shift+drag (or a drag with the Box toggle on) draws a rectangle; the layers whose centre is in
  // it join the selection (Shift) or become it (Box toggle alone); a collapsed group in it brings
  // all its layers. The rectangle is a div moved by style, like the minimap's outline: no render.
  const drawBox = () => {
    const el = boxRef.current;
    const d = boxDragRef.current;
    if (!el) return;
    if (!d) {
      el.style.display = 'none';
      return;
    }
    el.style.display = 'block';
    el.style.transform = `translate(${Math.min(d.x0, d.x1)}px, ${Math.min(d.y0, d.y1)}px)`;
    el.style.width = `${Math.abs(d.x1 - d.x0)}px`;
    el.style.height = `${Math.abs(d.y1 - d.y0)}px`;
  };
  const onPointerDown = (event: PointerEvent<SVGSVGElement>) => {
    swallowClickRef.current = false; // a drag that ended outside the view left no click to swallow
    if (event.button !== 0 || !(event.shiftKey || boxModeRef.current)) return;
    const box = event.currentTarget.getBoundingClientRect();
    const x = event.clientX - box.left;
    const y = event.clientY - box.top;
    boxDragRef.current = { x0: x, y0: y, x1: x, y1: y, add: event.shiftKey, pointer: event.pointerId };
    event.currentTarget.setPointerCapture?.(event.pointerId);
  };
  const onBoxMove = (event: PointerEvent<SVGSVGElement>) => {
    const d = boxDragRef.current;
    if (!d || d.pointer !== event.pointerId) return false;
    const box = event.currentTarget.getBoundingClientRect();
    d.x1 = event.clientX - box.left;
    d.y1 = event.clientY - box.top;
    if (Math.abs(d.x1 - d.x0) + Math.abs(d.y1 - d.y0) > 4) drawBox();
    return true;
  };
  const onPointerUp = (event: PointerEvent<SVGSVGElement>) => {
    const d = boxDragRef.current;
    if (!d || d.pointer !== event.pointerId) return;
    boxDragRef.current = null;
    drawBox();
    // A short drag is a click (Shift-click adds a layer).
    if (Math.abs(d.x1 - d.x0) + Math.abs(d.y1 - d.y0) <= 4) return;
    swallowClickRef.current = true;
    const t = transformRef.current;
    const [ax, ay] = t.invert([Math.min(d.x0, d.x1), Math.min(d.y0, d.y1)]);
    const [bx, by] = t.invert([Math.max(d.x0, d.x1), Math.max(d.y0, d.y1)]);
    const layers = boxedLayers(byTop, { x0: ax, y0: ay, x1: bx, y1: by }, groups?.collapsed);
    if (layers.length === 0) return;
    // Drawn layers last: the last one is the primary selection (the inspector's), best one on screen.
    const visible = new Set(layers.filter((l) => nodeById.has(l)));
    const ordered = [...layers.filter((l) => !visible.has(l)), ...layers.filter((l) => visible.has(l))];
    if (onSelectMany) onSelectMany(ordered, d.add);
    else ordered.forEach((layer, i) => onSelect(layer, { toggle: false, add: d.add || i > 0 }));
  };

  // --- clicks ---------------------------------------------------------------------------------------
  // d3-zoom swallows the click that ends a drag, so a pan never changes the selection.
  const onClick = (event: MouseEvent<SVGSVGElement>) => {
    if (swallowClickRef.current) {
      swallowClickRef.current = false;
      return;
    }
    const target = (event.target as Element).closest('g[data-node-id]') as SVGGElement | null;
    const keys = { toggle: event.ctrlKey || event.metaKey, add: event.shiftKey };
    if (!target) {
      if (!keys.toggle && !keys.add) onSelect(null);
    } else if (target.dataset.group !== undefined) {
      toggleGroup(target.dataset.group);
    } else if (target.dataset.layer !== undefined) {
      onSelect(target.dataset.layer, keys);
      setCursor(target.dataset.layer);
    }
  };

  if (!ready) {
    return (
      <div className="qg-root">
        <div className="qg-pending" data-testid="graph-layout-pending" role="status">
          <span className="qg-spinner" aria-hidden="true" />
          Laying out {graph.nodes.length.toLocaleString('en-US')} nodes…
        </div>
      </div>
    );
  }

  const countText = !query.trim() ? '' : matches.length === 0 ? 'no match' : matchIndex >= 0 ? `${matchIndex + 1} / ${matches.length}` : `${matches.length} match${matches.length === 1 ? '' : 'es'}`;
  return (
    <div className="qg-root">
      <svg
        ref={svgRef}
        className={`qg-svg${boxMode ? ' is-box-mode' : ''}`}
        onClick={onClick}
        onKeyDown={onGraphKey}
        onPointerMove={onPointerMove}
        onPointerDown={onPointerDown}
        onPointerUp={onPointerUp}
        onPointerCancel={() => {
          boxDragRef.current = null;
          drawBox();
        }}
        onPointerLeave={() => setHovered(null)}
        tabIndex={0}
        role="application"
        aria-roledescription="graph"
        aria-label={`Graph of ${graph.fileName}: ${graph.nodes.length} layers. Arrow keys move between layers, Enter selects.`}
        data-testid="graph-canvas"
      >
        <g ref={viewportRef} className="qg-viewport">
          <EdgesLayer layout={layout} />
          <path className="qg-edges qg-edges-active" d={activeEdges} />
          <NodesLayer layout={layout} labels={labels} opTypes={opTypes} groups={groups?.collapsed} groupText={groups?.text} />
          <BadgesLayer badges={badges} nodeById={nodeById} />
        </g>
      </svg>
      <div className="qg-toolbar">
        <div className="qg-search">
          <input
            type="search"
            placeholder="Find layer, op or tensor…"
            aria-label="Find a layer by its name, op type or a tensor name"
            value={query}
            onChange={(e) => {
              setQuery(e.target.value);
              setMatchIndex(-1);
            }}
            onKeyDown={onSearchKey}
            data-testid="graph-search"
            spellCheck={false}
          />
          <span className="qg-count" data-testid="graph-search-count" aria-live="polite">{countText}</span>
        </div>
        <div className="qg-buttons">
          <button type="button" onClick={() => zoomBy(1 / 1.5)} title="Zoom out" aria-label="Zoom out" data-testid="graph-zoom-out">−</button>
          <button type="button" onClick={() => zoomBy(1.5)} title="Zoom in" aria-label="Zoom in" data-testid="graph-zoom-in">+</button>
          <button type="button" onClick={() => animateTo(fitTransform(), 400)} title="Fit the graph's width (scroll or drag for the rest)" data-testid="graph-fit">Fit</button>
          <button type="button" onClick={() => animateTo(fitAll(layout, viewSize()), 400)} title="The whole graph at once (an overview: names show on hover)" data-testid="graph-fit-all">All</button>
          <button type="button" onClick={() => jump('inputs')} title="Go to the graph's inputs (again: the next one)" aria-label="Go to the inputs" data-testid="graph-jump-inputs">⤒</button>
          <button type="button" onClick={() => jump('outputs')} title="Go to the graph's outputs (again: the next one)" aria-label="Go to the outputs" data-testid="graph-jump-outputs">⤓</button>
          <button type="button" onClick={() => setBoxMode((on) => !on)} aria-pressed={boxMode} data-testid="graph-box-select"
            title={boxMode ? 'Box select is on: drag a rectangle to select the layers in it (click to pan again)' : 'Box select: drag a rectangle to select the layers in it (or Shift+drag at any time, which adds to the selection)'}>
            Box
          </button>
          {groups && groups.count > 0 && (
            <button type="button" onClick={collapseOrExpandAll} data-testid="graph-groups-toggle" aria-pressed={groups.collapsed.size > 0}
              title={groups.collapsed.size > 0 ? `Open every group (${groups.collapsed.size} collapsed; a click on a group opens it)` : `Collapse the ${groups.count} groups (name scopes, else repeated blocks) into boxes showing their worst error`}>
              {groups.collapsed.size > 0 ? 'Expand' : 'Group'}
            </button>
          )}
        </div>
      </div>
      <div ref={boxRef} className="qg-box" data-testid="graph-box" aria-hidden="true" />
      {minimap && <Minimap layout={layout} scale={minimap} heat={heat} colorOf={colorOf} viewBoxRef={minimapViewRef} onPan={panTo} />}
      <div ref={tooltipRef} className={`qg-tooltip${details ? '' : ' is-hidden'}`} data-testid="graph-tooltip" role="tooltip">
        {details && <GraphTooltip details={details} />}
      </div>
      <div className="qg-live" aria-live="polite">{announce}</div>
    </div>
  );
}

/** Edges as a few long paths (about 100 edges each, grouped top to bottom so off-screen groups are culled). */
const EdgesLayer = memo(function EdgesLayer({ layout }: { layout: GraphLayout }) {
  const groups = useMemo(() => {
    const edges = [...layout.edges].sort((a, b) => a.points[0].y - b.points[0].y);
    const out: { d: string; arrows: string }[] = [];
    for (let i = 0; i < edges.length; i += EDGES_PER_PATH) {
      const chunk = edges.slice(i, i + EDGES_PER_PATH);
      out.push({ d: edgePaths(chunk).join(''), arrows: chunk.map(arrowHead).join('') });
    }
    return out;
  }, [layout]);
  return (
    <g className="qg-edge-layer">
      {groups.map((g, i) => (
        <g key={i}>
          <path className="qg-edges" d={g.d} />
          <path className="qg-arrows" d={g.arrows} />
        </g>
      ))}
    </g>
  );
});

interface NodesLayerProps {
  layout: GraphLayout;
  labels: ReadonlyMap<string, NodeLabelText>;
  opTypes: ReadonlyMap<string, string>;
  groups?: ReadonlyMap<string, ScopeGroup>;
  groupText?: ReadonlyMap<string, string>;
}

const NodesLayer = memo(function NodesLayer({ layout, labels, opTypes, groups, groupText }: NodesLayerProps) {
  return (
    <g className="qg-nodes">
      {layout.nodes.map((n) => {
        const label = labels.get(n.id) ?? { title: n.id, subtitle: '' };
        const group = groups?.get(n.id);
        if (group) {
          return (
            <g key={n.id} className="qg-node qg-group" transform={`translate(${n.x - n.width / 2},${n.y - n.height / 2})`} data-node-id={n.id} data-testid="graph-group" data-group={n.id}>
              <rect width={n.width} height={n.height} rx={6} />
              <text className="qg-title" x={n.width / 2} y={17}>{label.title}</text>
              <text className="qg-subtitle" x={n.width / 2} y={31}>{groupText?.get(n.id) ?? '▸ open'}</text>
              <text className="qg-op" x={n.width / 2} y={n.height / 2 + 8}>{farLabel(group.scope, n.width)}</text>
            </g>
          );
        }
        const layer = n.kind === 'layer';
        return (
          <g
            key={n.id}
            className={layer ? 'qg-node' : `qg-node qg-terminal qg-${n.kind}`}
            transform={`translate(${n.x - n.width / 2},${n.y - n.height / 2})`}
            data-node-id={n.id}
            data-testid={layer ? 'graph-node' : 'graph-terminal'}
            data-layer={layer ? n.id : undefined}
          >
            <rect width={n.width} height={n.height} rx={layer ? 4 : n.height / 2} />
            <text className="qg-title" x={n.width / 2} y={17}>{label.title}</text>
            <text className="qg-subtitle" x={n.width / 2} y={31}>{label.subtitle}</text>
            <text className="qg-op" x={n.width / 2} y={n.height / 2 + 8}>{farLabel(layer ? opTypes.get(n.id) ?? label.title : label.title, n.width)}</text>
          </g>
        );
      })}
    </g>
  );
});

const BadgesLayer = memo(function BadgesLayer({ badges, nodeById }: { badges: ReadonlyMap<string, string>; nodeById: ReadonlyMap<string, LayoutNode> }) {
  const items: ReactElement[] = [];
  for (const [layer, text] of badges) {
    const n = nodeById.get(layer);
    if (!n) continue;
    const width = text.length * 6.4 + 8;
    const float = /^(FP|BF)/i.test(text);
    const warning = text.startsWith('⚠');
    items.push(
      <g key={layer} className={`qg-badge${float ? ' is-float' : ''}${warning ? ' is-warning' : ''}`} transform={`translate(${n.x + n.width / 2 - width + 6},${n.y - n.height / 2 - 8})`} data-testid="graph-badge" data-layer={layer}>
        <rect width={width} height={14} rx={3} />
        <text x={width / 2} y={10.5}>{text}</text>
      </g>,
    );
  }
  return <g className="qg-badges">{items}</g>;
});

interface Rect {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** The layers whose box centre is in `rect` (layout units), a collapsed group's members for its box. */
function boxedLayers(byTop: readonly LayoutNode[], rect: Rect, collapsed?: ReadonlyMap<string, ScopeGroup>): string[] {
  const layers: string[] = [];
  for (const n of boxesIn(byTop, rect)) {
    if (n.x < rect.x0 || n.x > rect.x1 || n.y < rect.y0 || n.y > rect.y1) continue;
    const group = collapsed?.get(n.id);
    if (group) layers.push(...group.members);
    else if (n.kind === 'layer') layers.push(n.id);
  }
  return layers;
}

/** Ids of the boxes that meet `rect`; `byTop` is sorted by top edge. */
function nodesIn(byTop: readonly LayoutNode[], rect: Rect): Set<string> {
  return new Set(boxesIn(byTop, rect).map((n) => n.id));
}

/** The boxes that meet `rect`; `byTop` is sorted by top edge. */
function boxesIn(byTop: readonly LayoutNode[], rect: Rect): LayoutNode[] {
  const found: LayoutNode[] = [];
  let lo = 0;
  let hi = byTop.length;
  const tallest = 64; // taller than any box (NODE_HEIGHT), so no box that reaches rect.y0 is skipped
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (byTop[mid].y - byTop[mid].height / 2 < rect.y0 - tallest) lo = mid + 1;
    else hi = mid;
  }
  for (let i = lo; i < byTop.length; i++) {
    const n = byTop[i];
    if (n.y - n.height / 2 > rect.y1) break;
    if (n.y + n.height / 2 >= rect.y0 && n.x + n.width / 2 >= rect.x0 && n.x - n.width / 2 <= rect.x1) found.push(n);
  }
  return found;
}

function labelsOf(graph: ModelGraph): Map<string, NodeLabelText> {
  const labels = new Map<string, NodeLabelText>();
  for (const n of graph.nodes) labels.set(n.name, layerLabel(n));
  for (const v of graph.inputs) labels.set(inputNodeId(v.name), terminalLabel(v));
  for (const v of graph.outputs) labels.set(outputNodeId(v.name), terminalLabel(v));
  return labels;
}

const curve = line<{ x: number; y: number }>()
  .x((p) => p.x)
  .y((p) => p.y)
  .curve(curveBasis);

function edgePaths(edges: readonly LayoutEdge[]): string[] {
  return edges.map((e) => curve(e.points as { x: number; y: number }[]) ?? '');
}

/** A filled triangle at the end of an edge, pointing along its last segment. */
function arrowHead(edge: LayoutEdge): string {
  const p = edge.points[edge.points.length - 1];
  const q = edge.points[edge.points.length - 2] ?? { x: p.x, y: p.y - 1 };
  const dx = p.x - q.x;
  const dy = p.y - q.y;
  const len = Math.hypot(dx, dy) || 1;
  const ux = dx / len;
  const uy = dy / len;
  const bx = p.x - ux * 7;
  const by = p.y - uy * 7;
  const f = (v: number) => v.toFixed(1);
  return `M${f(p.x)},${f(p.y)}L${f(bx - uy * 3.5)},${f(by + ux * 3.5)}L${f(bx + uy * 3.5)},${f(by - ux * 3.5)}Z`;
}

/**
 * Dark text (#0f1419) contrasts better than the light label colour (#d7dde5, luminance 0.71) on
 * fills whose relative luminance is above about 0.16 (WCAG contrast ratios cross there).
 */
function isLight(fill: string): boolean {
  const c = parseColor(fill)?.rgb();
  if (!c) return false;
  const channel = (v: number) => {
    const s = v / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel(c.r) + 0.7152 * channel(c.g) + 0.0722 * channel(c.b) > 0.16;
}
