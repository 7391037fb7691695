import type { ValueInfo } from '../engine/Engine';
import { bodyInputs } from '../io/onnx/ifBodies';
import type { OnnxModel } from '../io/onnx/OnnxModel';
import type { LayerName } from '../model/ModelGraph';
import { ALL_INT8 } from '../model/QTable';
import { fusedTensors } from '../quant/fusedTensors';
import type { LayerInfo } from '../quant/layerInfo';
import { effectivePrecision, type TargetScheme } from '../quant/schemes';

/** Every float tensor that can carry a range: graph inputs, a Loop or Scan body's own inputs, and every float node output. */
export function activationTensors(model: OnnxModel, types: ReadonlyMap<string, ValueInfo>): string[] {
  const tensors = model.graph.inputs.filter((i) => i.dtype === 'float32').map((i) => i.name);
  // a Loop body's own inputs (its carried values) are quantized inside the body too
  for (const input of bodyInputs(model.proto.graph!)) if (input.name && types.get(input.name)?.dtype === 'float32') tensors.push(input.name);
  for (const node of model.graph.nodes) {
    for (const output of node.outputs) if (output && types.get(output)?.dtype === 'float32') tensors.push(output);
  }
  return tensors;
}

/**
 * The float tensors calibration observes: every activation tensor that gets a quantizer under the
 * all-INT8 QTable. A tensor fused into its activation (a Conv's output read only by its Relu) is
 * left out: observing it would cost a pass over it and break onnxruntime's Conv+activation fusion,
 * for a range nothing uses. A QTable that un-fuses it later calibrates it then.
 */
export function calibratedTensors(model: OnnxModel, layers: ReadonlyMap<LayerName, LayerInfo>, types: ReadonlyMap<string, ValueInfo>, scheme: TargetScheme): string[] {
  const precisions = new Map([...layers.values()].map((l) => [l.name, effectivePrecision(l, ALL_INT8, scheme)]));
  const fused = fusedTensors(model.graph, precisions);
  return activationTensors(model, types).filter((t) => !fused.has(t));
}
