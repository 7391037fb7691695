import type { Evaluation } from '../model/Evaluation';
import { sameQTable, type QTable } from '../model/QTable';
import type { EvaluationDepth } from './Simulator';

/** How many QTables' figures are remembered: an undo, a redo, a few clicks back and forth. */
const REMEMBERED = 8;

/**
 * The full evaluations of the last few QTables under one simulator (model, cali table, scheme,
 * samples, scoring: everything but the QTable). Returning to one of them (an undo, a redo, a layer
 * set back) is answered from here instead of running onnxruntime again: the same QTable under the
 * same simulator gives the same numbers. A figure of another simulator is never returned; the
 * entries of an old one are dropped when the first of a new one is stored.
 *
 * A few hundred layer errors a QTable: memory is negligible next to the values the runners keep.
 */
export class RecentEvaluations<Owner extends object> {
  private entries: { readonly qtable: QTable; readonly depth: EvaluationDepth; readonly evaluation: Evaluation }[] = [];
  private owner: Owner | null = null;

  /** A complete evaluation of `qtable` under `owner` at `depth` or deeper (a heatmap's evaluation holds the output figures too). */
  find(owner: Owner, qtable: QTable, depth: EvaluationDepth): Evaluation | undefined {
    if (owner !== this.owner) return undefined;
    const entry = this.entries.find((e) => (e.depth === depth || e.depth === 'layers') && sameQTable(e.qtable, qtable));
    return entry?.evaluation;
  }

  /** Remembers a complete (not preliminary) evaluation; the oldest goes beyond REMEMBERED. */
  store(owner: Owner, qtable: QTable, depth: EvaluationDepth, evaluation: Evaluation): void {
    if (evaluation.preliminary) return;
    if (owner !== this.owner) {
      this.owner = owner;
      this.entries = [];
    }
    // One entry a table: a heatmap's evaluation holds the output figures too, so it replaces the table's outputs-only one.
    const covered = (e: { readonly depth: EvaluationDepth; readonly qtable: QTable }) => (e.depth === depth || depth === 'layers') && sameQTable(e.qtable, qtable);
    this.entries = [{ qtable, depth, evaluation }, ...this.entries.filter((e) => !covered(e))].slice(0, REMEMBERED);
  }

  /**
   * The figures remembered under `from` hold under `to` as well: the caller has checked that what
   * changed between the two cannot change any of them (Workbench: ranges added for tensors that no
   * remembered table quantized).
   */
  carryOver(from: Owner, to: Owner): void {
    if (this.owner === from) this.owner = to;
  }

  clear(): void {
    this.owner = null;
    this.entries = [];
  }
}
