import { calibrateRanges, type FloatReference } from './calib/rangeCalibration';
import { measureExportedModel, type ExportVerification } from './export/verifyExport';
import type { Engine, ValueInfo } from './engine/Engine';
import { DataError, QbenchError } from './errors';
import type { Dataset } from './io/dataset/Dataset';
import { validateDataset } from './io/dataset/validate';
import { OnnxModel, readOnnx } from './io/onnx/OnnxModel';
import { onnx } from './io/onnx/protobuf';
import type { JobContext } from './jobs/Job';
import type { LayerName, ModelGraph } from './model/ModelGraph';
import type { TensorMap } from './model/tensor';
import { describeLayers, type LayerInfo } from './quant/layerInfo';
import { TARGET_SCHEMES, type Range, type TargetScheme } from './quant/qparams';
import type { QTable } from './quant/QTable';
import type { Evaluation } from './sim/Evaluation';
import { Simulator, type EvaluationDepth } from './sim/Simulator';
import { inferTensorTypes } from './sim/tensorTypes';

export interface CalibrationSummary {
  readonly method: 'minmax';
  readonly sampleCount: number;
  readonly ranges: readonly { readonly tensor: string; readonly min: number; readonly max: number }[];
  readonly elapsedMs: number;
}

/**
 * One model and its dataset, calibrated and evaluated: the core job that the worker (for the page)
 * and the CLI both wrap. Holds the heavy data (weights, samples, sessions); hands out plain data.
 */
export class Workbench {
  private dataset?: Dataset;
  private ranges?: Map<string, Range>;
  private reference?: FloatReference;
  private simulator?: Simulator;
  scheme: TargetScheme = TARGET_SCHEMES['ort-qdq'];

  private constructor(
    readonly engine: Engine,
    readonly model: OnnxModel,
    readonly types: ReadonlyMap<string, ValueInfo>,
    readonly layers: ReadonlyMap<LayerName, LayerInfo>,
  ) {}

  /** Reads the model and checks that the engine can run it (every problem names the file). */
  static async open(engine: Engine, bytes: Uint8Array, fileName: string): Promise<Workbench> {
    const model = readOnnx(bytes, fileName);
    const types = await inferTensorTypes(model, engine);
    return new Workbench(engine, model, types, describeLayers(model.graph, types));
  }

  get graph(): ModelGraph {
    return this.model.graph;
  }

  get calibrated(): boolean {
    return this.simulator !== undefined;
  }

  /** Sets the samples; they are checked against the model's inputs (names, shapes, dtypes, NaN). */
  setDataset(dataset: Dataset): void {
    validateDataset(dataset, this.model.graph.inputs);
    this.dataset = dataset;
    this.invalidateCalibration();
  }

  setScheme(scheme: TargetScheme): void {
    if (scheme.id === this.scheme.id) return;
    this.scheme = scheme;
    this.rebuildSimulator();
  }

  /** Float tensors that get a calibrated range: graph inputs and every float node output. */
  activationTensors(): string[] {
    const tensors = this.model.graph.inputs.filter((i) => i.dtype === 'float32').map((i) => i.name);
    for (const node of this.model.graph.nodes) {
      for (const output of node.outputs) if (output && this.types.get(output)?.dtype === 'float32') tensors.push(output);
    }
    return tensors;
  }

  async calibrate(job: JobContext): Promise<CalibrationSummary> {
    const dataset = this.requireDataset();
    const started = performance.now();
    const result = await calibrateRanges(this.engine, this.model, this.activationTensors(), dataset, job);
    this.ranges = result.ranges;
    this.reference = result.reference;
    this.rebuildSimulator();
    return {
      method: 'minmax',
      sampleCount: dataset.samples.length,
      ranges: [...result.ranges].map(([tensor, r]) => ({ tensor, min: r.min, max: r.max })),
      elapsedMs: performance.now() - started,
    };
  }

  evaluate(qtable: QTable, depth: EvaluationDepth, job: JobContext): Promise<Evaluation> {
    return this.requireSimulator().evaluate(qtable, depth, job);
  }

  /** Model outputs of the simulation of a QTable, per evaluation sample. */
  simulatedOutputs(qtable: QTable, depth: EvaluationDepth, job: JobContext): Promise<TensorMap[]> {
    return this.requireSimulator().simulatedOutputs(qtable, depth, job);
  }

  /** The quantized model of a QTable in QDQ form: the same graph the evaluation ran. */
  exportQdq(qtable: QTable): Uint8Array {
    return onnx.ModelProto.encode(this.requireSimulator().buildQdq(qtable).proto).finish();
  }

  /**
   * Writes the QDQ model and proves it: the bytes are loaded in a fresh session and run on the
   * evaluation samples; the measured output error is returned next to the predicted one.
   */
  async exportVerifiedQdq(qtable: QTable, job: JobContext): Promise<{ bytes: Uint8Array; verification: ExportVerification }> {
    const bytes = this.exportQdq(qtable);
    const predicted = (await this.evaluate(qtable, 'outputs', job)).output;
    const dataset = this.requireDataset();
    const measured = await measureExportedModel(this.engine, bytes, `${this.model.fileName} (exported QDQ)`, dataset, this.reference!.outputs, job);
    return { bytes, verification: { predicted, measured, sampleCount: dataset.samples.length, engine: this.engine.name } };
  }

  async dispose(): Promise<void> {
    await this.simulator?.dispose();
  }

  private invalidateCalibration(): void {
    this.ranges = undefined;
    this.reference = undefined;
    void this.simulator?.dispose();
    this.simulator = undefined;
  }

  private rebuildSimulator(): void {
    if (!this.ranges || !this.reference || !this.dataset) return;
    void this.simulator?.dispose();
    this.simulator = new Simulator({
      engine: this.engine, model: this.model, layers: this.layers, types: this.types, ranges: this.ranges,
      scheme: this.scheme, samples: this.dataset, reference: this.reference,
    });
  }

  private requireDataset(): Dataset {
    if (!this.dataset) throw new DataError('no calibration data: add .npy files or images first');
    return this.dataset;
  }

  private requireSimulator(): Simulator {
    if (!this.simulator) throw new QbenchError('the model is not calibrated yet: run calibration first');
    return this.simulator;
  }
}
