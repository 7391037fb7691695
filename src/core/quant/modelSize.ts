import type { OnnxModel } from '../io/onnx/OnnxModel';
import { tensorDims } from '../io/onnx/tensorProto';
import { elementCount } from '../model/tensor';
import { inputRole } from './inputRoles';
import type { LayerInfo } from './layerInfo';
import type { Precision, QTable } from '../model/QTable';
import { effectivePrecision, type TargetScheme } from './schemes';

/** Bytes per element of a weight stored at a layer's precision. */
const WEIGHT_BYTES: Record<Precision, number> = { INT4: 0.5, INT8: 1, UINT8: 1, INT16: 2, FP16: 2, BF16: 2, FP32: 4 };

/**
 * Bytes of the model's initializers under a QTable (the Pareto view's x axis): weights at the
 * precision of the layer that reads them, an 8-bit or 4-bit layer's bias as int32, everything else
 * as stored. An initializer read by several layers is counted once, at the widest of them.
 */
export function weightBytes(model: OnnxModel, layers: ReadonlyMap<string, LayerInfo>, qtable: QTable, scheme: TargetScheme): number {
  const widest = new Map<string, number>();
  for (const node of model.graph.nodes) {
    const precision = effectivePrecision(layers.get(node.name), qtable, scheme);
    node.inputs.forEach((name, k) => {
      if (!name || !model.isInitializer(name)) return;
      const proto = model.initializerProto(name)!;
      const role = inputRole(node.opType, k, true);
      let bytes = storedBytes(proto.dataType);
      if (proto.dataType === 1 /* FLOAT */) {
        if (role === 'weight') bytes = WEIGHT_BYTES[precision];
        else if (role === 'bias' && (precision === 'INT8' || precision === 'UINT8' || precision === 'INT4')) bytes = 4;
        else if (role === 'bias' || role === 'data') bytes = precision === 'FP16' || precision === 'BF16' ? 2 : 4;
      }
      widest.set(name, Math.max(widest.get(name) ?? 0, bytes));
    });
  }
  let total = 0;
  for (const [name, bytes] of widest) total += bytes * elementCount(tensorDims(model.initializerProto(name)!));
  return total;
}

/** Bytes per element of an initializer's own ONNX type. */
function storedBytes(dataType: number): number {
  switch (dataType) {
    case 2: case 3: case 9: return 1; // uint8, int8, bool
    case 4: case 5: case 10: case 16: return 2; // uint16, int16, float16, bfloat16
    case 7: case 11: case 13: return 8; // int64, double, uint64
    default: return 4;
  }
}
