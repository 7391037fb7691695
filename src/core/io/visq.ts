import { FormatError, QbenchError } from '../errors';
import type { LayerError } from '../model/Evaluation';
import { describeJson, expectArray, expectFiniteNumber, expectObject, expectString, isJsonObject, jsonKeyPath, parseJsonText } from './jsonText';

/**
 * ONE visq error map (docs/formats.md): `{"meta": {"model", "metric", "colorscheme"}, "error": [{tensor: value}]}`.
 *
 * What visq writes (Samsung/ONE compiler/visq/visq, _build_json): `model` is the fp32 model's file
 * name, `metric` one of its computers' keys, `colorscheme` a list of `{"b": begin, "e": end, "c":
 * colour}`, `error` a list with one map per subgraph (only the first is written), keyed by tensor
 * name (QErrorComputer.py dumps and compares tensors by name; in a Circle model a node is named
 * after its output tensor, and circle-mpqsolver's VISQErrorApproximator.cpp looks `error[0]` up by
 * node name). Infinite and NaN values are refused (_check_float); floats are rounded to 4 digits
 * (Util.py pretty_float). We keep full precision instead: an activation MSE of 3e-6 would round
 * to 0.
 *
 * Metrics: visq has MPEIR, MSE, TAE and SRMSE (visqlib/QErrorComputer.py); each is an error (higher
 * is worse). qbench measures cos, MSE and SQNR per layer output (LayerError). We write:
 * - `MSE`: LayerError.mse, mean over samples of mean((f - q)^2), visq's MSE definition.
 * - `1-COS`: 1 - cos, a qbench metric named as what it is, error-like so circle-mpqsolver and the
 *   colour scale read it the right way round. (SQNR is not offered: it is higher-is-better and
 *   infinite where a layer is exact, which visq's format forbids.)
 *
 * Colour scheme: YlOrRd with 9 slots of equal width between a minimum and a maximum
 * (visqlib/Palette.py UniformPalette/YLORRD9Palette, slot i = [min + i*(range/9), min + (i+1)*(range/9)]).
 * visq takes the range from its metric: MPEIR fixed [0, 1], MSE and TAE the smallest and largest
 * per-sample value, SRMSE [0, max]. qbench has per-layer means only, so it uses their range; a
 * single value v (or all equal) gets [v, v + |v|] ([0, 1] when v = 0), since visq refuses min >= max.
 */

export type VisqMetric = 'MSE' | '1-COS';

export const VISQ_METRICS: readonly VisqMetric[] = ['MSE', '1-COS'];

/** colorbrewer2 YlOrRd, 9 classes, as visqlib/Palette.py lists it. */
export const YLORRD9: readonly string[] = ['#ffffcc', '#ffeda0', '#fed976', '#feb24c', '#fd8d3c', '#fc4e2a', '#e31a1c', '#bd0026', '#800026'];

export interface VisqColorSlot {
  /** Begin of the slot's error range. */
  readonly b: number;
  /** End of the slot's error range. */
  readonly e: number;
  /** CSS colour. */
  readonly c: string;
}

export interface VisqErrorMap {
  readonly model: string;
  readonly metric: string;
  readonly colorscheme: readonly VisqColorSlot[];
  /** One map per subgraph, tensor name -> error. */
  readonly errors: readonly ReadonlyMap<string, number>[];
}

/**
 * visq's colour scheme: 9 equal slots over [min, max].
 * @example visqColorscheme(0, 0.099)[1] // {b: 0.011, e: 0.022, c: '#ffeda0'}
 */
export function visqColorscheme(min: number, max: number): VisqColorSlot[] {
  if (!(min < max)) throw new QbenchError(`a visq colour scheme needs min < max, found min ${min} and max ${max}`);
  const range = max - min;
  return YLORRD9.map((c, i) => ({ b: min + i * (range / YLORRD9.length), e: min + (i + 1) * (range / YLORRD9.length), c }));
}

/** [min, max] of the values, widened when they are all equal (visq needs min < max). */
export function valueRange(values: readonly number[]): [number, number] {
  if (values.length === 0) return [0, 1];
  const min = Math.min(...values);
  const max = Math.max(...values);
  if (min < max) return [min, max];
  return min === 0 ? [0, 1] : [min, min + Math.abs(min)];
}

export interface VisqExportOptions {
  readonly metric: VisqMetric;
  /** The model's file name (visq writes the fp32 model's). */
  readonly model: string;
}

export interface VisqExport {
  readonly text: string;
  readonly errorMap: VisqErrorMap;
  /** Tensors left out because their value is NaN or infinite (visq's format forbids them). */
  readonly skippedTensors: readonly string[];
}

/** The error map for per-layer errors, keyed by each layer's measured output tensor. */
export function visqErrorMap(layers: readonly LayerError[], options: VisqExportOptions): { errorMap: VisqErrorMap; skippedTensors: string[] } {
  const errors = new Map<string, number>();
  const skippedTensors: string[] = [];
  for (const layer of layers) {
    const value = options.metric === 'MSE' ? layer.mse : 1 - layer.cos;
    if (Number.isFinite(value)) errors.set(layer.tensor, value);
    else skippedTensors.push(layer.tensor);
  }
  const [min, max] = valueRange([...errors.values()]);
  return { errorMap: { model: options.model, metric: options.metric, colorscheme: visqColorscheme(min, max), errors: [errors] }, skippedTensors };
}

/**
 * @example formatVisq([{layer: 'conv1', tensor: 'conv1', precision: 'INT8', cos: 0.99, mse: 0.0012, sqnr: 30}],
 *   {metric: 'MSE', model: 'model.circle'}).text
 * // {"meta": {"model": "model.circle", "metric": "MSE", "colorscheme": [...]}, "error": [{"conv1": 0.0012}]}
 */
export function formatVisq(layers: readonly LayerError[], options: VisqExportOptions): VisqExport {
  const { errorMap, skippedTensors } = visqErrorMap(layers, options);
  return { text: formatVisqErrorMap(errorMap), errorMap, skippedTensors };
}

/** Writes an error map as visq does (full precision instead of 4 digits). */
export function formatVisqErrorMap(map: VisqErrorMap): string {
  for (const [i, errors] of map.errors.entries()) {
    for (const [tensor, value] of errors) {
      if (!Number.isFinite(value)) throw new QbenchError(`cannot write the visq error of ${tensor} in subgraph ${i}: visq allows finite numbers only, found ${value}`);
    }
  }
  const json = {
    meta: { model: map.model, metric: map.metric, colorscheme: map.colorscheme.map(({ b, e, c }) => ({ b, e, c })) },
    error: map.errors.map((errors) => Object.fromEntries(errors)),
  };
  return JSON.stringify(json, null, 2) + '\n';
}

/** Parses a visq JSON file (visq's own output or ours). Any metric name is accepted. */
export function parseVisq(text: string, fileName: string): VisqErrorMap {
  const root = parseJsonText(text, fileName, 'a visq error map');
  if (!isJsonObject(root)) throw new FormatError(fileName, `expected a visq error map (a JSON object with "meta" and "error"), found ${describeJson(root)}`);
  const meta = expectObject(root.meta, fileName, 'meta', 'an object with "model", "metric" and "colorscheme"');
  const model = expectString(meta.model, fileName, 'meta.model');
  const metric = expectString(meta.metric, fileName, 'meta.metric');
  const colorscheme = expectArray(meta.colorscheme, fileName, 'meta.colorscheme', 'an array of {"b", "e", "c"} slots').map((value, i) => {
    const path = `meta.colorscheme[${i}]`;
    const slot = expectObject(value, fileName, path, 'a {"b", "e", "c"} slot');
    return { b: expectFiniteNumber(slot.b, fileName, `${path}.b`), e: expectFiniteNumber(slot.e, fileName, `${path}.e`), c: expectString(slot.c, fileName, `${path}.c`) };
  });
  const errors = expectArray(root.error, fileName, 'error', 'an array of {tensor: error} maps').map((value, i) => {
    const path = `error[${i}]`;
    const map = expectObject(value, fileName, path, 'an object of tensor errors');
    return new Map(Object.entries(map).map(([tensor, error]) => [tensor, expectFiniteNumber(error, fileName, jsonKeyPath(path, tensor))]));
  });
  return { model, metric, colorscheme, errors };
}
