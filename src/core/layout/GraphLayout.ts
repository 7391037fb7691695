/**
 * The result of layoutGraph (layoutGraph.ts), as plain data that crosses Comlink. Kept apart from
 * the layout code so the UI can import these names without pulling dagre into the page bundle.
 */
export interface LayoutNode {
  /** The layer name for layers; `input:<tensor>` and `output:<tensor>` for graph terminals. */
  readonly id: string;
  /** Centre of the box, in layout units (1 unit = 1 CSS px at zoom 1). */
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  readonly kind: 'layer' | 'input' | 'output';
}

export interface LayoutEdge {
  /** LayoutNode ids. */
  readonly from: string;
  readonly to: string;
  readonly tensor: string;
  /** Polyline from the producer's border to the consumer's border, top to bottom; draw with a smooth curve. */
  readonly points: readonly { x: number; y: number }[];
}

export interface GraphLayout {
  readonly nodes: readonly LayoutNode[];
  readonly edges: readonly LayoutEdge[];
  /** Size of the drawing, margins included; every box lies inside [0, width] x [0, height]. */
  readonly width: number;
  readonly height: number;
  readonly elapsedMs: number;
}

/** LayoutNode id of a graph input's terminal. @example inputNodeId('images') // 'input:images' */
export const inputNodeId = (tensor: string): string => `input:${tensor}`;
/** LayoutNode id of a graph output's terminal. @example outputNodeId('logits') // 'output:logits' */
export const outputNodeId = (tensor: string): string => `output:${tensor}`;
