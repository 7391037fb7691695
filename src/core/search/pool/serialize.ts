import type { CaliEntry, CalibrationMethod } from '../../model/CaliTable';
import type { ValueInfo } from '../../engine/Engine';
import type { Dataset } from '../../io/dataset/Dataset';
import { OnnxModel } from '../../io/onnx/OnnxModel';
import { onnx } from '../../io/onnx/protobuf';
import type { LayerName } from '../../model/ModelGraph';
import type { TensorMap } from '../../model/tensor';
import type { OutputScoring } from '../../metrics/outputParts';
import type { WeightOptions } from '../../quant/WeightOptions';
import type { LayerInfo } from '../../quant/layerInfo';
import { targetScheme, type TargetScheme } from '../../quant/schemes';
import type { SearchContext } from '../SearchContext';

/** A SearchContext as plain data, to send to a pool worker once per search session. */
export interface SearchContextData {
  readonly modelBytes: Uint8Array;
  readonly fileName: string;
  readonly layers: readonly LayerInfo[];
  readonly types: readonly (readonly [string, ValueInfo])[];
  readonly scheme: TargetScheme['id'];
  readonly weights: WeightOptions;
  readonly biasShifts: readonly (readonly [LayerName, Float32Array])[] | null;
  readonly cali: readonly (readonly [string, CaliEntry])[];
  readonly methodTables: readonly (readonly [CalibrationMethod, readonly (readonly [string, CaliEntry])[]])[];
  readonly samples: Dataset;
  readonly references: readonly TensorMap[];
  readonly scoring: OutputScoring;
  readonly samplesKey?: string;
  readonly wholeWhatIf?: boolean;
}

export function searchContextToData(ctx: SearchContext): SearchContextData {
  return {
    modelBytes: ctx.model.encode(),
    fileName: ctx.model.fileName,
    layers: [...ctx.layers.values()],
    types: [...ctx.types],
    scheme: ctx.scheme.id,
    weights: ctx.weights,
    biasShifts: ctx.biasShifts ? [...ctx.biasShifts] : null,
    cali: [...ctx.cali],
    methodTables: [...ctx.methodTables].map(([m, table]) => [m, [...table]] as const),
    samples: ctx.samples,
    references: ctx.references,
    scoring: ctx.scoring,
    ...(ctx.samplesKey !== undefined ? { samplesKey: ctx.samplesKey } : {}),
    ...(ctx.wholeWhatIf ? { wholeWhatIf: true } : {}),
  };
}

/** The context again; the model is the workbench's already normalized one, read as it is. */
export function searchContextFromData(data: SearchContextData): SearchContext {
  const model = new OnnxModel(onnx.ModelProto.decode(data.modelBytes), data.fileName, data.modelBytes.length);
  return {
    model,
    layers: new Map(data.layers.map((l) => [l.name, l])),
    types: new Map(data.types),
    scheme: targetScheme(data.scheme),
    weights: data.weights,
    ...(data.biasShifts ? { biasShifts: new Map(data.biasShifts) } : {}),
    cali: new Map(data.cali),
    methodTables: new Map(data.methodTables.map(([m, table]) => [m, new Map(table)])),
    samples: data.samples,
    references: data.references,
    scoring: data.scoring,
    ...(data.samplesKey !== undefined ? { samplesKey: data.samplesKey } : {}),
    ...(data.wholeWhatIf ? { wholeWhatIf: true } : {}),
  };
}
