import { onnx } from '../io/onnx/protobuf';
import type { LayerName } from '../model/ModelGraph';
import { QdqBuilder, type QdqBuildInput } from '../export/buildQdqModel';
import { addFloatHalf, type ProbedTensor } from './probeModel';
import { addReduction } from './reductions';

/** Where one layer's local error sums come out of the local probe. */
export interface LocalProbe {
  readonly layer: LayerName;
  readonly tensor: string;
  /** Outputs holding sum (f-q)^2, sum q^2, sum f^2 and the element count. */
  readonly dd: string;
  readonly qq: string;
  readonly ff: string;
  readonly count: string;
}

export interface LocalProbeModel {
  readonly proto: onnx.ModelProto;
  /** The layers measured: those the QTable quantizes (a float layer's local error is none). */
  readonly probes: readonly LocalProbe[];
}

/**
 * Every layer's local error in one model (docs/algorithms.md §4): the float model, and beside it a copy
 * of each quantized layer, built as the QDQ model of the QTable builds it (same qparams, weights and
 * fusion), that reads the float model's activations through its own input quantizers. One run
 * gives each layer's error as if it alone were quantized, while four numbers per layer leave the
 * engine, as in the accumulated probe (probeModel.ts). With only one layer quantized the copy is
 * the QDQ model's layer, fed what the QDQ model feeds it: local equals accumulated.
 *
 * The float half is the model itself; there is no quantized half, so the model costs about what
 * the accumulated probe costs. Layers inside If/Loop/Scan bodies have no copy (their inputs exist
 * only while the body runs; run_qtable measures none either).
 */
export function buildLocalProbeModel(input: QdqBuildInput, probed: readonly ProbedTensor[]): LocalProbeModel {
  const builder = new QdqBuilder(input);
  const { writer } = builder;
  const asFloat = addFloatHalf(builder, input.model);
  const nodes = new Map(input.model.proto.graph!.node.map((n) => [n.name, n]));
  const probes: LocalProbe[] = [];
  // Last layer first, as in probeModel.ts: onnxruntime then measures each copy as soon as its float
  // inputs exist instead of keeping every float activation until the end.
  for (const { layer, tensor } of [...probed].reverse()) {
    const node = nodes.get(layer);
    const local = node && builder.emitLocalLayer(node, asFloat)?.get(tensor);
    if (!local) continue;
    const reference = asFloat(tensor);
    const difference = writer.uniqueName(`${tensor}/qbench_local_error`);
    writer.addNode('Sub', [reference, local], [difference], `${tensor}/qbench_local_error`);
    probes.push({
      layer,
      tensor,
      dd: addReduction(writer, 'ReduceSumSquare', difference),
      qq: addReduction(writer, 'ReduceSumSquare', local),
      ff: addReduction(writer, 'ReduceSumSquare', reference),
      count: addReduction(writer, 'Size', reference),
    });
  }
  probes.reverse();
  const sums = probes.flatMap((p) => [p.dd, p.qq, p.ff, p.count]);
  const proto = builder.finish(sums.map((name) => ({ name })));
  // The model's own outputs are not computed under their names here (the float half renames them).
  const wanted = new Set(sums);
  proto.graph!.output = proto.graph!.output.filter((o) => wanted.has(o.name));
  return { proto, probes };
}
