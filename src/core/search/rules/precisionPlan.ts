import type { LayerName } from '../../model/ModelGraph';
import { qtableLayer, type LayerInfo } from '../../quant/layerInfo';
import { QbenchError } from '../../errors';
import { isIntegerPrecision, withPrecision, type Precision, type QTable } from '../../model/QTable';
import type { RuleGraph } from './RuleGraph';

/** One layer a rule sets, with the words the inspector shows for it. */
export interface PrecisionAssignment {
  readonly layer: LayerName;
  readonly opType: string;
  readonly precision: Precision;
  /** e.g. 'at or before 474_Conv (--fpfwd_inputs)' */
  readonly reason: string;
}

/**
 * What a graph-only rule decided: one entry per node it names, in topological order. Nodes the
 * QTable cannot address (Shape, Cast, ...) may be listed; `applyPlan` leaves them out.
 */
export interface PrecisionPlan {
  readonly assignments: readonly PrecisionAssignment[];
}

/**
 * The base QTable with every quantizable layer of the plan set to its planned precision; layers
 * that are not quantizable or not in `layers` keep whatever they had.
 * @example applyPlan(ALL_INT8, fpForward(graph, { outputs: ['conv4'] }), workbench.layers)
 *   // { defaultPrecision: 'INT8', layers: Map { 'conv4' => 'FP32', 'reshape' => 'FP32' } }: the Shape stays out
 */
export function applyPlan(base: QTable, plan: PrecisionPlan, layers: ReadonlyMap<LayerName, LayerInfo>): QTable {
  let table = base;
  for (const { layer, precision } of plan.assignments) {
    const info = layers.get(layer);
    if (info?.quantizable) table = withPrecision(table, qtableLayer(info), precision);
  }
  return table;
}

/** Rules that keep layers out of integer quantization take a float precision only. */
export function floatPrecision(precision: Precision | undefined, rule: string): Precision {
  const p = precision ?? 'FP32';
  if (isIntegerPrecision(p)) throw new QbenchError(`${rule} sets layers to a float precision (FP32, FP16, BF16); got ${p}`);
  return p;
}

/** Collects assignments while a rule walks the graph: the first reason given for a layer is kept. */
export class PlanBuilder {
  private readonly entries = new Map<LayerName, PrecisionAssignment>();

  constructor(private readonly graph: RuleGraph) {}

  has(layer: LayerName): boolean {
    return this.entries.has(layer);
  }

  precisionOf(layer: LayerName): Precision | undefined {
    return this.entries.get(layer)?.precision;
  }

  set(layer: LayerName, precision: Precision, reason: string): void {
    if (this.entries.has(layer)) return;
    this.entries.set(layer, { layer, opType: this.graph.node(layer)?.opType ?? '', precision, reason });
  }

  /** In topological order. */
  assignments(): PrecisionAssignment[] {
    return this.graph.inOrder(this.entries.keys()).map((layer) => this.entries.get(layer)!);
  }
}
