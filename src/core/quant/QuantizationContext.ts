import type { CaliEntry } from '../model/CaliTable';
import type { ValueInfo } from '../engine/Engine';
import type { OnnxModel } from '../io/onnx/OnnxModel';
import type { LayerName } from '../model/ModelGraph';
import type { LayerInfo } from './layerInfo';
import type { TargetScheme } from './schemes';
import type { WeightOptions } from './WeightOptions';

/** A calibrated model and the rules to quantize it by: what every QTable is applied to. */
export interface QuantizationContext {
  readonly model: OnnxModel;
  readonly layers: ReadonlyMap<LayerName, LayerInfo>;
  /** Element types and shapes of the float model's tensors (inferTensorTypes). */
  readonly types: ReadonlyMap<string, ValueInfo>;
  /** Calibrated range (threshold, min, max) of each activation tensor. */
  readonly cali: ReadonlyMap<string, CaliEntry>;
  readonly scheme: TargetScheme;
  readonly weights: WeightOptions;
  /**
   * Bias correction (docs/algorithms.md §6): per-channel amounts added to a layer's bias before it is
   * quantized to int32. Part of quantization, not of the float model: the float reference and the
   * simulation's float half keep the model's own biases.
   */
  readonly biasShifts?: ReadonlyMap<LayerName, Float32Array>;
}
