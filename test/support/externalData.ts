import { chmodSync, mkdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { AttributeType, onnx } from '../../src/core/io/onnx/protobuf';
import { GraphBuilder } from './GraphBuilder';

/** Where the test model keeps a tensor in another file (issue #12, item 3). */
export type ExternalPlace = 'if-initializer' | 'if-constant' | 'main-constant';

/** The bytes the tensors read from the external file: more than any tensor of the model needs. */
export const EXTERNAL_FILE_BYTES = 4096;

/** Points `tensor` at `location` the way onnx.save(save_as_external_data=True) writes it. */
export function makeExternal(tensor: onnx.ITensorProto, location: string): void {
  const length = tensor.rawData?.length ?? 0;
  tensor.rawData = new Uint8Array(0);
  tensor.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
  tensor.externalData = [{ key: 'location', value: location }, { key: 'offset', value: '0' }, { key: 'length', value: String(length) }];
}

/**
 * x [1,3,8,8] -> If(sum(x) > 0) { Conv "pos_conv" } else { Conv "neg_conv" } -> Add(bias) -> y,
 * a model onnxruntime loads and runs. The tensors at `places` keep their data in `location`:
 * the then-branch's Conv weight as a branch initializer ('if-initializer') or a branch Constant
 * node ('if-constant'), and the bias as a main-graph Constant node ('main-constant').
 */
export function externalDataModel(places: readonly ExternalPlace[], location: string): Uint8Array {
  const main = new GraphBuilder({ seed: 2, opset: 13 });
  const x = main.input('x', [1, 3, 8, 8]);
  const [sum] = main.node('ReduceSum', [x], { keepdims: 0 }, 1, []);
  const [cond] = main.node('Greater', [sum, main.constant(new Float32Array([0]), [])], {}, 1, []);
  const [joined] = main.node('If', [cond], {}, 1, [1, 4, 8, 8], 'the_if');
  const biasBuilder = new GraphBuilder({ seed: 3, weights: 'constant' });
  const bias = biasBuilder.weight([1, 4, 1, 1], 0.1, 'bias');
  main.output(main.add(joined, bias));
  const model = main.toModel();
  const biasNode = biasBuilder.toModel().graph!.node[0];
  model.graph!.node.splice(model.graph!.node.findIndex((n) => n.opType === 'Add'), 0, biasNode);
  if (places.includes('main-constant')) makeExternal(biasNode.attribute[0].t!, location);

  const branch = (prefix: string, externalAs: 'initializer' | 'constant' | null) => {
    const b = new GraphBuilder({ seed: prefix === 'pos' ? 5 : 6, opset: 13, weights: externalAs === 'constant' ? 'constant' : 'initializer' });
    b.input(x, [1, 3, 8, 8]);
    b.output(b.conv(x, 4, 3, { name: `${prefix}_conv`, bias: false }));
    const built = b.toModel().graph!;
    if (externalAs === 'initializer') makeExternal(built.initializer[0], location);
    if (externalAs === 'constant') makeExternal(built.node.find((n) => n.opType === 'Constant')!.attribute[0].t!, location);
    return onnx.GraphProto.create({ name: prefix, node: built.node, initializer: built.initializer, input: [], output: built.output });
  };
  const thenAs = places.includes('if-initializer') ? 'initializer' : places.includes('if-constant') ? 'constant' : null;
  model.graph!.node.find((n) => n.name === 'the_if')!.attribute = [
    onnx.AttributeProto.create({ name: 'then_branch', type: AttributeType.GRAPH, g: branch('pos', thenAs) }),
    onnx.AttributeProto.create({ name: 'else_branch', type: AttributeType.GRAPH, g: branch('neg', null) }),
  ];
  return onnx.ModelProto.encode(model).finish();
}

/** A file the model names, written, then made unreadable (mode 000) with its access time in the past. */
export interface UnreadableFile {
  readonly path: string;
  /** The access time set: a read moves it (even by root, whom mode 000 does not stop; the file is newer than this). */
  readonly atimeMs: number;
}

/**
 * Writes `relative` under `dir` and makes it unreadable. Mode 000 refuses a read to any user but
 * root; for root (CI containers) the access time tells: it is set before the modification time,
 * so a read moves it even on a relatime mount.
 */
export function unreadableFile(dir: string, relative: string): UnreadableFile {
  const path = join(dir, relative);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, new Uint8Array(EXTERNAL_FILE_BYTES).fill(7));
  const past = new Date('2001-01-01T00:00:00Z');
  utimesSync(path, past, new Date());
  chmodSync(path, 0);
  return { path, atimeMs: statSync(path).atimeMs };
}

/** Whether anything read the file since unreadableFile made it. */
export function wasRead(file: UnreadableFile): boolean {
  return statSync(file.path).atimeMs !== file.atimeMs;
}
