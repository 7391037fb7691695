import { AttributeType, DataType, Long, onnx } from '../../src/core/io/onnx/protobuf';
import { makeTensorProto } from '../../src/core/io/onnx/tensorProto';
import { seededRandom } from '../../src/core/seededRandom';

// Seeded weights and data: every test model is the same on every run.
export { seededRandom };

export type WeightStorage = 'initializer' | 'constant' | 'input-initializer';

export interface BuilderOptions {
  readonly opset?: number;
  readonly seed?: number;
  /** Where weights live: initializers, Constant nodes, or initializers also listed as graph inputs (IR 3 exporters). */
  readonly weights?: WeightStorage;
  /** Leave nodes unnamed, as many exporters do. */
  readonly unnamed?: boolean;
}

/** An INT, INTS (bigint for exact int64 such as INT64_MAX), STRING, FLOATS or FLOAT attribute. */
type Attr = number | (number | bigint)[] | string | { floats: number[] } | { float: number };

/**
 * Builds small ONNX models for tests and benchmarks, with seeded weights:
 *   const b = new GraphBuilder({ seed: 1 });
 *   const x = b.input('x', [1, 3, 8, 8]);
 *   b.output(b.relu(b.conv(x, 8, 3)));
 *   const bytes = b.toBytes();
 */
export class GraphBuilder {
  readonly random: () => number;
  private readonly nodes: onnx.NodeProto[] = [];
  private readonly initializers: onnx.TensorProto[] = [];
  private readonly inputs: onnx.ValueInfoProto[] = [];
  private readonly outputs: onnx.ValueInfoProto[] = [];
  private readonly shapes = new Map<string, number[]>();
  private counter = 0;

  constructor(readonly options: BuilderOptions = {}) {
    this.random = seededRandom(options.seed ?? 1);
  }

  private fresh(prefix: string): string {
    return `${prefix}_${this.counter++}`;
  }

  shapeOf(tensor: string): number[] {
    const shape = this.shapes.get(tensor);
    if (!shape) throw new Error(`builder does not know the shape of ${tensor}`);
    return shape;
  }

  input(name: string, dims: number[]): string {
    this.inputs.push(valueInfo(name, DataType.FLOAT, dims));
    this.shapes.set(name, dims);
    return name;
  }

  /** Declares a graph output; `elemType` for outputs that are not float (TopK's indices). */
  output(tensor: string, elemType: number = DataType.FLOAT): void {
    this.outputs.push(valueInfo(tensor, elemType, this.shapes.get(tensor)));
  }

  /** A float weight with values uniform in [-scale, scale). */
  weight(dims: number[], scale: number, name = this.fresh('w')): string {
    const count = dims.reduce((a, b) => a * b, 1);
    const data = new Float32Array(count);
    for (let i = 0; i < count; i++) data[i] = (this.random() * 2 - 1) * scale;
    return this.constant(data, dims, name);
  }

  constant(data: Float32Array | BigInt64Array, dims: number[], name = this.fresh('c')): string {
    const tensor = makeTensorProto(name, data instanceof BigInt64Array ? { dtype: 'int64', dims, data } : { dtype: 'float32', dims, data });
    const storage = this.options.weights ?? 'initializer';
    if (storage === 'constant') {
      this.nodes.push(onnx.NodeProto.create({ opType: 'Constant', output: [name], name: this.options.unnamed ? '' : `${name}_const`, attribute: [{ name: 'value', type: AttributeType.TENSOR, t: tensor }] }));
    } else {
      this.initializers.push(tensor);
      if (storage === 'input-initializer') this.inputs.push(valueInfo(name, tensor.dataType, dims));
    }
    this.shapes.set(name, dims);
    return name;
  }

  /** Any node; returns its outputs. `shape` records the first output's shape for later layers. */
  node(opType: string, inputs: string[], attrs: Record<string, Attr> = {}, outputs = 1, shape?: number[], name?: string): string[] {
    const outs = Array.from({ length: outputs }, () => this.fresh(opType.toLowerCase()));
    const attribute = Object.entries(attrs).map(([key, value]) => attribute_(key, value));
    this.nodes.push(onnx.NodeProto.create({ opType, input: inputs, output: outs, attribute, name: this.options.unnamed ? '' : name ?? `${opType}_${this.counter++}` }));
    if (shape) this.shapes.set(outs[0], shape);
    else if (inputs[0] && this.shapes.has(inputs[0])) this.shapes.set(outs[0], this.shapeOf(inputs[0]));
    return outs;
  }

  conv(x: string, outChannels: number, kernel: number, opts: { stride?: number; group?: number; bias?: boolean; name?: string } = {}): string {
    const [n, c, h, w] = this.shapeOf(x);
    const stride = opts.stride ?? 1;
    const group = opts.group ?? 1;
    const pad = Math.floor(kernel / 2);
    const fanIn = (c / group) * kernel * kernel;
    const weight = this.weight([outChannels, c / group, kernel, kernel], Math.sqrt(6 / fanIn));
    const inputs = [x, weight];
    if (opts.bias ?? true) inputs.push(this.weight([outChannels], 0.1));
    const oh = Math.floor((h + 2 * pad - kernel) / stride) + 1;
    const ow = Math.floor((w + 2 * pad - kernel) / stride) + 1;
    return this.node('Conv', inputs, { kernel_shape: [kernel, kernel], pads: [pad, pad, pad, pad], strides: [stride, stride], group }, 1, [n, outChannels, oh, ow], opts.name)[0];
  }

  relu(x: string): string {
    return this.node('Relu', [x])[0];
  }

  relu6(x: string): string {
    if ((this.options.opset ?? 13) >= 11) return this.node('Clip', [x, this.constant(new Float32Array([0]), []), this.constant(new Float32Array([6]), [])])[0];
    return this.node('Clip', [x], { min: { float: 0 }, max: { float: 6 } })[0];
  }

  add(a: string, b: string): string {
    return this.node('Add', [a, b])[0];
  }

  globalAveragePool(x: string): string {
    const [n, c] = this.shapeOf(x);
    return this.node('GlobalAveragePool', [x], {}, 1, [n, c, 1, 1])[0];
  }

  flatten(x: string): string {
    const [n, ...rest] = this.shapeOf(x);
    return this.node('Flatten', [x], { axis: 1 }, 1, [n, rest.reduce((a, b) => a * b, 1)])[0];
  }

  gemm(x: string, outFeatures: number): string {
    const [n, k] = this.shapeOf(x);
    const w = this.weight([outFeatures, k], Math.sqrt(6 / k));
    const b = this.weight([outFeatures], 0.1);
    return this.node('Gemm', [x, w, b], { transB: 1 }, 1, [n, outFeatures])[0];
  }

  softmax(x: string, axis = -1): string {
    return this.node('Softmax', [x], { axis })[0];
  }

  toModel(): onnx.ModelProto {
    return onnx.ModelProto.create({
      irVersion: (this.options.weights === 'input-initializer') ? 3 : 8,
      producerName: 'qbench-test-builder',
      opsetImport: [{ domain: '', version: this.options.opset ?? 13 }],
      graph: { name: 'test', node: this.nodes, initializer: this.initializers, input: this.inputs, output: this.outputs },
    });
  }

  toBytes(): Uint8Array {
    return onnx.ModelProto.encode(this.toModel()).finish();
  }
}

function valueInfo(name: string, elemType: number, dims?: number[]): onnx.ValueInfoProto {
  return onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType, shape: dims ? { dim: dims.map((d) => ({ dimValue: d })) } : undefined } } });
}

function attribute_(name: string, value: Attr): onnx.AttributeProto {
  if (typeof value === 'number') return onnx.AttributeProto.create({ name, type: AttributeType.INT, i: value });
  if (typeof value === 'string') return onnx.AttributeProto.create({ name, type: AttributeType.STRING, s: new TextEncoder().encode(value) });
  if (Array.isArray(value)) return onnx.AttributeProto.create({ name, type: AttributeType.INTS, ints: value.map((v) => (typeof v === 'bigint' ? Long.fromString(v.toString()) : v)) });
  if ('floats' in value) return onnx.AttributeProto.create({ name, type: AttributeType.FLOATS, floats: value.floats });
  return onnx.AttributeProto.create({ name, type: AttributeType.FLOAT, f: value.float });
}

/** Random input samples for a model with one float input. */
export function randomSamples(inputName: string, dims: number[], count: number, seed = 7): Record<string, { dtype: 'float32'; dims: number[]; data: Float32Array }>[] {
  const random = seededRandom(seed);
  const size = dims.reduce((a, b) => a * b, 1);
  return Array.from({ length: count }, () => ({
    [inputName]: { dtype: 'float32' as const, dims, data: Float32Array.from({ length: size }, () => random() * 2 - 1) },
  }));
}
