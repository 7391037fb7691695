import type { CalibrationResult, CalibrationSettings, TensorOverride } from '../calib/Calibration';
import type { ValueInfo } from '../engine/Engine';
import type { Dataset } from '../io/dataset/Dataset';
import type { OnnxModel } from '../io/onnx/OnnxModel';
import type { CaliEntry, CaliTable } from '../model/CaliTable';
import type { LayerName } from '../model/ModelGraph';
import type { TensorMap } from '../model/tensor';
import type { LayerInfo } from '../quant/layerInfo';
import type { TargetScheme } from '../quant/schemes';
import type { WeightOptions } from '../quant/WeightOptions';
import type { OutputTask } from '../metrics/tasks';

/**
 * Everything a workbench's figures depend on, as one immutable record (issue #10): an edit makes a
 * new record; the cali table, the simulator and the search context are derived from it (memoized
 * by the identity of the fields they read, so nothing is rebuilt by hand and nothing goes stale);
 * undoing a failed change is putting the previous record back.
 */
export interface SessionState {
  /** The model being quantized: the file's model after the float corrections in force. */
  readonly model: OnnxModel;
  readonly types: ReadonlyMap<string, ValueInfo>;
  readonly layers: ReadonlyMap<LayerName, LayerInfo>;
  /** What `model` was made from: the float corrections and, for SmoothQuant, the dataset version. */
  readonly floatModelKey: string;
  readonly dataset?: Dataset;
  /** Counts datasets: SmoothQuant's float model depends on which one measured it. */
  readonly datasetVersion: number;
  readonly settings: CalibrationSettings;
  readonly scheme: TargetScheme;
  readonly weights: WeightOptions;
  /** Tensors with their own method or typed threshold. */
  readonly overrides: ReadonlyMap<string, TensorOverride>;
  /** An imported cali_table (or a de-quantized file's ranges). */
  readonly imported: CaliTable | null;
  readonly calibration?: CalibrationResult;
  /** The evaluation samples and the float model's outputs on them. */
  readonly evaluation?: { readonly samples: Dataset; readonly outputs: readonly TensorMap[] };
  /** TPU-MLIR's tuned KL thresholds, where tuning ran. */
  readonly tuned: ReadonlyMap<string, CaliEntry> | null;
  /** Bias correction's per-channel shifts, where it was kept. */
  readonly biasShifts: ReadonlyMap<LayerName, Float32Array> | null;
  /** Output tasks the user chose (the others are detected from the outputs: metrics/detectTasks.ts). */
  readonly taskOverrides: ReadonlyMap<string, OutputTask>;
  /** The samples' true classes by sample name, when the user gave labels. */
  readonly labels: ReadonlyMap<string, number> | null;
}
