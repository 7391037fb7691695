import { color as parseColor, curveBasis, line, select, zoom as d3zoom, zoomIdentity, type ZoomBehavior, type ZoomTransform } from 'd3';
import { memo, useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState, type KeyboardEvent, type MouseEvent, type ReactElement } from 'react';
import { inputNodeId, outputNodeId, type GraphLayout, type LayoutEdge, type LayoutNode } from '../../core/layout/GraphLayout';
import { layerLabel, terminalLabel, type NodeLabelText } from '../../core/layout/nodeLabel';
import type { ModelGraph } from '../../core/model/ModelGraph';
import './GraphView.css';

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
  onSelect: (layer: string | null) => void;
}

/** Below this zoom the labels are unreadable: hide them (and arrowheads) so panning stays cheap. */
const FAR_ZOOM = 0.35;
const MAX_ZOOM = 4;
/** A three-layer graph fitted to the screen would be huge: fit never zooms in past this. */
const FIT_MAX_ZOOM = 1.5;
/** Zoom used to show one layer (search, selection from elsewhere) when the view is further out. */
const FOCUS_ZOOM = 0.9;
const EDGES_PER_PATH = 96;

/**
 * The model graph as a layered DAG with a per-layer heat colour. Pan and zoom go through d3-zoom,
 * which moves one <g>: React renders the boxes once per layout and never during a gesture; heat,
 * selection and search marks are applied to the existing elements directly.
 */
export function GraphView({ graph, layout, heat, colorOf, badges, selected, onSelect }: GraphViewProps) {
  const svgRef = useRef<SVGSVGElement>(null);
  const viewportRef = useRef<SVGGElement>(null);
  const zoomRef = useRef<ZoomBehavior<SVGSVGElement, unknown> | null>(null);
  const transformRef = useRef<ZoomTransform>(zoomIdentity);
  const elementsRef = useRef(new Map<string, SVGGElement>());
  const badgeElementsRef = useRef(new Map<string, SVGGElement>());
  /** Ids of the boxes that currently draw their text (those in or near the viewport). */
  const labelledRef = useRef(new Set<string>());
  const focusingRef = useRef<string | null>(null);

  const labels = useMemo(() => labelsOf(graph), [graph]);
  const nodeById = useMemo(() => new Map((layout?.nodes ?? []).map((n) => [n.id, n])), [layout]);
  const byTop = useMemo(() => [...(layout?.nodes ?? [])].sort((a, b) => a.y - a.height / 2 - (b.y - b.height / 2)), [layout]);
  // A layout of another graph (a new model while its layout is computed) counts as pending.
  const ready = layout !== null && graph.nodes.every((n) => nodeById.has(n.name));

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

  const fitTransform = useCallback((): ZoomTransform => {
    if (!layout) return zoomIdentity;
    const [w, h] = viewSize();
    const k = Math.min(FIT_MAX_ZOOM, 0.95 * Math.min(w / Math.max(layout.width, 1), h / Math.max(layout.height, 1)));
    return zoomIdentity.translate((w - layout.width * k) / 2, (h - layout.height * k) / 2).scale(k);
  }, [layout, viewSize]);

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
    const fit = fitTransform();
    let far: boolean | null = null;
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
    const zoom = d3zoom<SVGSVGElement, unknown>()
      .scaleExtent([Math.min(0.05, fit.k * 0.8), MAX_ZOOM])
      .extent(() => [[0, 0], viewSize()])
      .translateExtent([[-w, -h], [layout.width + w, layout.height + h]])
      .on('zoom', (event: { transform: ZoomTransform }) => {
        const t = event.transform;
        transformRef.current = t;
        viewport.setAttribute('transform', t.toString());
        const nowFar = t.k < FAR_ZOOM;
        if (nowFar !== far) {
          far = nowFar;
          viewport.classList.toggle('is-far', nowFar);
        }
        updateLabels(t);
      });
    zoomRef.current = zoom;
    const selection = select(svg).call(zoom).on('dblclick.zoom', null);
    // Small graphs open fitted; deep ones (where "fit" makes boxes specks) open at their top,
    // centred on the topmost box (the first input).
    if (fit.k >= FAR_ZOOM) selection.call(zoom.transform, fit);
    else {
      const k = Math.min(1, Math.max(0.5, (0.95 * w) / layout.width));
      const top = byTop[0];
      selection.call(zoom.transform, zoomIdentity.translate(w / 2 - (top ? top.x : layout.width / 2) * k, 8).scale(k));
    }
    // A container that grows shows area the label culling has not covered yet.
    const resize = typeof ResizeObserver === 'undefined' ? null : new ResizeObserver(() => {
      covered = null;
      updateLabels(transformRef.current);
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
  }, [ready, layout, byTop, fitTransform, viewSize]);

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
  const matches = useMemo(() => {
    const q = query.trim().toLowerCase();
    if (!q || !ready) return [];
    return graph.nodes.filter((n) => n.name.toLowerCase().includes(q) || n.opType.toLowerCase().includes(q)).map((n) => n.name);
  }, [graph, query, ready]);

  useLayoutEffect(() => {
    const viewport = viewportRef.current;
    if (!ready || !viewport || !query.trim()) return;
    const marked = matches.map((id) => elementsRef.current.get(id)).filter((el): el is SVGGElement => !!el);
    viewport.classList.add('is-searching');
    for (const el of marked) el.classList.add('is-match');
    return () => {
      viewport.classList.remove('is-searching');
      for (const el of marked) el.classList.remove('is-match');
    };
  }, [ready, layout, matches, query]);

  const step = (direction: 1 | -1) => {
    if (matches.length === 0) return;
    const next = matchIndex < 0 ? (direction === 1 ? 0 : matches.length - 1) : (matchIndex + direction + matches.length) % matches.length;
    setMatchIndex(next);
    const node = nodeById.get(matches[next]);
    if (!node) return;
    focusingRef.current = matches[next];
    centreOn(node);
    onSelect(matches[next]);
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

  // --- clicks ---------------------------------------------------------------------------------------
  // d3-zoom swallows the click that ends a drag, so a pan never changes the selection.
  const onClick = (event: MouseEvent<SVGSVGElement>) => {
    const target = (event.target as Element).closest('g[data-node-id]') as SVGGElement | null;
    if (!target) onSelect(null);
    else if (target.dataset.layer !== undefined) onSelect(target.dataset.layer);
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
      <svg ref={svgRef} className="qg-svg" onClick={onClick} role="img" aria-label={`Graph of ${graph.fileName}: ${graph.nodes.length} layers`}>
        <g ref={viewportRef} className="qg-viewport">
          <EdgesLayer layout={layout} />
          <path className="qg-edges qg-edges-active" d={activeEdges} />
          <NodesLayer layout={layout} labels={labels} />
          <BadgesLayer badges={badges} nodeById={nodeById} />
        </g>
      </svg>
      <div className="qg-toolbar">
        <div className="qg-search">
          <input
            type="search"
            placeholder="Find layer or op…"
            aria-label="Find a layer by name or op type"
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
          <button type="button" onClick={() => animateTo(fitTransform(), 400)} title="Fit the whole graph" data-testid="graph-fit">Fit</button>
        </div>
      </div>
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

const NodesLayer = memo(function NodesLayer({ layout, labels }: { layout: GraphLayout; labels: ReadonlyMap<string, NodeLabelText> }) {
  return (
    <g className="qg-nodes">
      {layout.nodes.map((n) => {
        const label = labels.get(n.id) ?? { title: n.id, subtitle: '' };
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

/** Ids of the boxes that meet `rect`; `byTop` is sorted by top edge. */
function nodesIn(byTop: readonly LayoutNode[], rect: Rect): Set<string> {
  const found = new Set<string>();
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
    if (n.y + n.height / 2 >= rect.y0 && n.x + n.width / 2 >= rect.x0 && n.x - n.width / 2 <= rect.x1) found.add(n.id);
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
