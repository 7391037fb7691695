import type { CaliEntry } from '../model/CaliTable';
import { precisionOf, type Precision, type QTable } from '../model/QTable';
import { asymmetricQParams, symmetricQParams, type QParams } from './qparams';

/**
 * A target scheme: a toolchain's rules for quantizing a graph (docs/architecture.md glossary;
 * docs/algorithms.md §1). The simulation and the exported QDQ model follow the selected one.
 */
export interface TargetScheme {
  readonly id: 'ort-qdq' | 'tpu-mlir' | 'one' | 'bolt';
  readonly name: string;
  readonly description: string;
  /** How an INT8 layer stores activations. */
  readonly activation8: 'uint8-asymmetric' | 'int8-symmetric';
  /** Default weight granularity (the user can override it). */
  readonly weightGranularity: 'channel' | 'tensor';
  /** Only these operators are quantized; others run float. Undefined: every quantizable operator. */
  readonly quantizedOps?: ReadonlySet<string>;
  /** ONE's QuantizeWithMinMax: qparams propagate through shape ops and Concat; bounded ops get fixed ones. */
  readonly oneRules: boolean;
}

const GEMM_LIKE = new Set(['Conv', 'ConvTranspose', 'Gemm', 'MatMul']);

export const TARGET_SCHEMES: Record<TargetScheme['id'], TargetScheme> = {
  'ort-qdq': {
    id: 'ort-qdq', name: 'ORT/QDQ', activation8: 'uint8-asymmetric', weightGranularity: 'channel', oneRules: false,
    description: 'onnxruntime QDQ: uint8 asymmetric activations, int8 symmetric per-channel weights, int32 bias',
  },
  'tpu-mlir': {
    id: 'tpu-mlir', name: 'TPU-MLIR', activation8: 'int8-symmetric', weightGranularity: 'channel', oneRules: false,
    description: 'TPU-MLIR: int8 symmetric activations (scale = threshold/127), int8 per-channel weights',
  },
  one: {
    id: 'one', name: 'ONE', activation8: 'uint8-asymmetric', weightGranularity: 'channel', oneRules: true,
    description: "Samsung ONE: uint8 asymmetric or int16 symmetric, QuantizeWithMinMax's propagation rules and fixed qparams",
  },
  bolt: {
    id: 'bolt', name: 'Bolt', activation8: 'int8-symmetric', weightGranularity: 'tensor', quantizedOps: GEMM_LIKE, oneRules: false,
    description: 'Huawei Bolt: int8 symmetric with clip values (scale = clip/127) on Conv/FC/MatMul, other operators in float',
  },
};

/**
 * The precision a layer actually runs at: the QTable's, unless the layer is not quantizable or the
 * scheme does not quantize its operator (then it runs as in the model, FP32).
 */
export function effectivePrecision(layer: { readonly name: string; readonly opType: string; readonly quantizable: boolean; readonly operator?: string } | undefined, qtable: QTable, scheme: TargetScheme): Precision {
  if (!layer?.quantizable || (scheme.quantizedOps && !scheme.quantizedOps.has(layer.opType))) return 'FP32';
  // A node a .tflite/.circle conversion added runs at its operator's precision (LayerInfo.operator).
  return precisionOf(qtable, layer.operator ?? layer.name);
}

export function targetScheme(id: string): TargetScheme {
  const scheme = TARGET_SCHEMES[id as TargetScheme['id']];
  if (!scheme) throw new Error(`unknown target scheme "${id}" (expected ${Object.keys(TARGET_SCHEMES).join(', ')})`);
  return scheme;
}

/** qparams of an activation stored at `precision` under `scheme`, from its calibrated entry. */
export function activationQParams(entry: CaliEntry, precision: Precision, scheme: TargetScheme): QParams {
  const symmetric = { min: -entry.threshold, max: entry.threshold };
  switch (precision) {
    case 'INT8':
    case 'INT4': // int4 applies to weights; activations stay 8-bit (W4A8)
      return scheme.activation8 === 'uint8-asymmetric' ? asymmetricQParams(entry, 'uint8') : symmetricQParams(symmetric, 'int8');
    case 'UINT8':
      return asymmetricQParams(entry, 'uint8');
    case 'INT16':
      return symmetricQParams(symmetric, 'int16');
    default:
      throw new Error(`${precision} is not an integer precision`);
  }
}

/** ONE: ops whose output takes its input's qparams (forward propagation). */
export const ONE_FORWARD_OPS = new Set([
  'Reshape', 'Transpose', 'Gather', 'Slice', 'Split', 'Squeeze', 'Unsqueeze', 'Flatten', 'MaxPool', 'GlobalMaxPool',
  'DepthToSpace', 'SpaceToDepth', 'Identity', 'Expand', 'Tile',
]);

/** ONE: ops whose inputs take their output's qparams (backward propagation). */
export const ONE_BACKWARD_OPS = new Set(['Concat', 'Pad']);

/**
 * ONE's pre-defined qparams of bounded ops (docs/algorithms.md §1): uint8 Sigmoid (1/256, 0), Tanh
 * (2/256, 128), Softmax (1/255, 0); int16 1/32768 (Sigmoid, Tanh) and 1/32767 (Softmax), zp 0.
 */
export function oneFixedQParams(opType: string, precision: Precision): QParams | undefined {
  const int16 = precision === 'INT16';
  switch (opType) {
    case 'Sigmoid': return int16 ? { type: 'int16', scale: Math.fround(1 / 32768), zeroPoint: 0 } : { type: 'uint8', scale: Math.fround(1 / 256), zeroPoint: 0 };
    case 'Tanh': return int16 ? { type: 'int16', scale: Math.fround(1 / 32768), zeroPoint: 0 } : { type: 'uint8', scale: Math.fround(2 / 256), zeroPoint: 128 };
    case 'Softmax': return int16 ? { type: 'int16', scale: Math.fround(1 / 32767), zeroPoint: 0 } : { type: 'uint8', scale: Math.fround(1 / 255), zeroPoint: 0 };
    default: return undefined;
  }
}

/**
 * The output qparams of an 8-bit Softmax, made safe for onnxruntime's QLinearSoftmax kernel. That
 * kernel scales its exp table by floor(1 / y_scale) in float32 and overflows once 1 / y_scale
 * exceeds about 148 times the length D of the softmax axis: every output then reads 0 (PP-OCR's
 * 2-class direction classifier, calibrated maximum 0.68: cos 0.21). So the calibrated scale is
 * kept, but never below 1 / (100 D). Where D is unknown, onnxruntime's own quantizer's fixed
 * qparams (QDQSoftmax: uint8 1/256 zp 0, int8 symmetric 1/127 zp 0). ONE has its own
 * (oneFixedQParams). Undefined: not an 8-bit Softmax output.
 * @example softmaxOutputQParams('Softmax', 'INT8', TARGET_SCHEMES['ort-qdq'], { type: 'uint8', scale: 0.00268, zeroPoint: 0 }, 2) // scale 0.005
 * @example softmaxOutputQParams('Softmax', 'INT8', TARGET_SCHEMES['ort-qdq'], { type: 'uint8', scale: 3.9e-6, zeroPoint: 0 }, 1000) // scale 1e-5
 */
export function softmaxOutputQParams(opType: string, precision: Precision, scheme: TargetScheme, calibrated: QParams, axisLength: number | null): QParams | undefined {
  if (opType !== 'Softmax' || scheme.oneRules || (precision !== 'INT8' && precision !== 'UINT8' && precision !== 'INT4')) return undefined;
  if (axisLength === null || axisLength <= 0) {
    const unsigned = precision === 'UINT8' || scheme.activation8 === 'uint8-asymmetric';
    return unsigned ? { type: 'uint8', scale: Math.fround(1 / 256), zeroPoint: 0 } : { type: 'int8', scale: Math.fround(1 / 127), zeroPoint: 0 };
  }
  const floor = Math.fround(1 / (100 * axisLength));
  return calibrated.scale >= floor ? calibrated : { ...calibrated, scale: floor };
}
