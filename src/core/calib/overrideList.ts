import type { CalibrationMethod } from '../model/CaliTable';
import type { TensorOverride } from './Calibration';

/**
 * The per-tensor calibration overrides in force, as plain data: what the workbench reports, what
 * the page's Undo puts back and what a scored configuration was measured with. Order carries no
 * meaning.
 */
export type OverrideList = readonly (readonly [tensor: string, override: TensorOverride])[];

/** No override (a module constant, so that a store selector returns the same value every time). */
export const NO_OVERRIDES: OverrideList = [];

/** @example sameOverride({ method: 'kl' }, { method: 'kl' }) // true */
export function sameOverride(a: TensorOverride | undefined, b: TensorOverride | undefined): boolean {
  if (!a || !b) return a === b;
  if ('method' in a) return 'method' in b && a.method === b.method;
  return 'threshold' in b && a.threshold === b.threshold;
}

/**
 * The tensors whose override differs between two lists: set, changed or removed.
 * @example changedTensors([['a', { method: 'kl' }]], [['b', { threshold: 2 }]]) // ['a', 'b']
 */
export function changedTensors(from: OverrideList, to: OverrideList): string[] {
  const a = new Map(from);
  const b = new Map(to);
  return [...new Set([...a.keys(), ...b.keys()])].filter((t) => !sameOverride(a.get(t), b.get(t)));
}

/** Whether two lists put the same overrides in force, whatever their order. */
export function sameOverrides(a: OverrideList, b: OverrideList): boolean {
  return a === b || changedTensors(a, b).length === 0;
}

/**
 * Every tensor at one method's thresholds: what a configuration scored with that method's whole
 * table (search_qtable's op-type prefilter) was measured with. An override beats the model-wide
 * method, an imported table and tuned thresholds alike (activeCaliTable), so this list is that table.
 * @example everyTensorAt(['a', 'b'], 'mse') // [['a', { method: 'mse' }], ['b', { method: 'mse' }]]
 */
export function everyTensorAt(tensors: readonly string[], method: CalibrationMethod): OverrideList {
  return tensors.map((t) => [t, { method }] as const);
}
