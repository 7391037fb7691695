import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatNpy } from '../src/core/io/dataset/npy';
import { onnx } from '../src/core/io/onnx/protobuf';
import { parseQTable } from '../src/core/io/qtable';
import { GraphBuilder, randomSamples, seededRandom } from '../test/support/GraphBuilder';
import { tensorRanges, toDynamic, toQOperator } from '../test/support/integerForms';
import { ortNodeEngine } from './ortNodeEngine';
import { runQbench } from '../test/support/runQbench';


/** The real `qbench` command, as a user runs it (test/support/runQbench.ts). */
const qbench = (...args: string[]) => runQbench(args);

function fixture() {
  const dir = mkdtempSync(join(tmpdir(), 'qbench-cli-'));
  const b = new GraphBuilder({ seed: 4 });
  let x = b.input('x', [1, 3, 10, 10]);
  x = b.relu(b.conv(x, 6, 3, { name: 'conv_a' }));
  x = b.conv(x, 4, 3, { name: 'conv_b' });
  b.output(x);
  writeFileSync(join(dir, 'model.onnx'), b.toBytes());
  const random = seededRandom(3);
  for (let i = 0; i < 3; i++) {
    const tensor = { dtype: 'float32' as const, dims: [1, 3, 10, 10], data: Float32Array.from({ length: 300 }, () => random() * 2 - 1) };
    writeFileSync(join(dir, `s${i}.npy`), formatNpy(tensor));
  }
  return { dir, model: join(dir, 'model.onnx'), data: [0, 1, 2].map((i) => join(dir, `s${i}.npy`)).join(',') };
}

describe('qbench CLI', () => {
  it('eval --json prints one object with the output similarity and every layer', async () => {
    const f = fixture();
    const { code, stdout } = await qbench('eval', '--model', f.model, '--data', f.data, '--json', '--local');
    expect(code).toBe(0);
    const result = JSON.parse(stdout);
    expect(Object.keys(result.output).sort()).toEqual(['cos', 'mse', 'sqnr']);
    expect(result.output.cos).toBeGreaterThan(0.99);
    expect(result.output.cos).toBeLessThan(1);
    expect(result.layers.map((l: { name: string }) => l.name)).toEqual(['conv_a', 'Relu_4', 'conv_b']);
    for (const layer of result.layers) expect(Object.keys(layer).sort()).toEqual(['cos', 'local', 'mse', 'name', 'op', 'precision', 'sqnr']);
    expect(result.layers.every((l: { precision: string }) => l.precision === 'INT8')).toBe(true);
    // Each layer's local error beside its accumulated one: the first layer reads the graph input, so they agree.
    const first = result.layers[0];
    expect(Object.keys(first.local).sort()).toEqual(['cos', 'mse', 'sqnr']);
    expect(first.local.cos).toBeCloseTo(first.cos, 6);
  });

  it('eval reads a qtable and the layer runs at that precision', async () => {
    const f = fixture();
    writeFileSync(join(f.dir, 't.qtable'), '# op_name quantize_mode\nconv_b F32\n');
    const { code, stdout } = await qbench('eval', '--model', f.model, '--data', f.data, '--qtable', join(f.dir, 't.qtable'), '--json', '--local');
    expect(code).toBe(0);
    const layers = JSON.parse(stdout).layers;
    expect(layers.find((l: { name: string }) => l.name === 'conv_b').precision).toBe('FP32');
    // without --local, no local errors (they cost about one more evaluation)
    expect(JSON.parse((await qbench('eval', '--model', f.model, '--data', f.data, '--json')).stdout).layers[0].local).toBeUndefined();
    // A float layer has nothing of its own quantized: no local error.
    expect(layers.find((l: { name: string }) => l.name === 'conv_b').local).toBeUndefined();
  });

  it('eval prints a readable table', async () => {
    const f = fixture();
    const { code, stdout } = await qbench('eval', '--model', f.model, '--data', f.data);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^model {3}model\.onnx \(opset 13, 3 layers\), 3 samples, ort-node, target ort-qdq\noutput  cos 0\.\d{6}/);
    expect(stdout).toMatch(/\nconv_b +Conv +INT8 +0\.\d{6}/);
  });

  it('export writes a QDQ model that loads, and the qtable', async () => {
    const f = fixture();
    writeFileSync(join(f.dir, 'in.qtable'), 'conv_a F16\n');
    const out = join(f.dir, 'out.qdq.onnx');
    const qtableOut = join(f.dir, 'out.qtable');
    const { code, stdout } = await qbench('export', '--model', f.model, '--data', f.data, '--qtable', join(f.dir, 'in.qtable'), '--out', out, '--qtable-out', qtableOut);
    expect(code).toBe(0);
    expect(stdout).toMatch(/verified: the written model, run by ort-node on 3 samples, gives output cos (0\.\d{6}) \(predicted \1\)/);
    const ops = onnx.ModelProto.decode(readFileSync(out)).graph!.node.map((n) => n.opType);
    expect(ops).toContain('QuantizeLinear');
    expect(ops).toContain('Cast');
    expect([...parseQTable(readFileSync(qtableOut, 'utf8'), 'out.qtable').table.layers]).toEqual([['conv_a', 'FP16']]);
  });

  it('eval --dequantize opens a QOperator or a dynamic file as float, says which form it was, and measures the file\'s own model', async () => {
    const f = fixture();
    const float = onnx.ModelProto.decode(readFileSync(f.model));
    const ranges = await tensorRanges(ortNodeEngine(1), float, randomSamples('x', [1, 3, 10, 10], 4, 3));
    writeFileSync(join(f.dir, 'model.qop.onnx'), onnx.ModelProto.encode(toQOperator(float, ranges)).finish());
    writeFileSync(join(f.dir, 'model.dyn.onnx'), onnx.ModelProto.encode(toDynamic(float)).finish());
    let r = await qbench('eval', '--model', join(f.dir, 'model.qop.onnx'), '--data', f.data, '--dequantize');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^note: opened de-quantized from QOperator form: 2 integer operators turned back into float ones \(QLinearConv x2 → Conv\), 2 quantizers \(QuantizeLinear\/DequantizeLinear\/DynamicQuantizeLinear\) removed, the ranges of 3 quantized tensors imported as the calibration, 4 stored integer tensors turned back into float \(weights keep their integer rounding\), 1 Relu folded into a quantizer put back\n/);
    expect(r.stdout).toMatch(/\nconv_a +Conv +INT8 /);
    expect(r.stdout).toMatch(/\nthe file's own quantized model: cos 0\.99\d+/);
    r = await qbench('eval', '--model', join(f.dir, 'model.dyn.onnx'), '--data', f.data, '--dequantize');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^note: opened de-quantized from dynamic quantization: 2 integer operators turned back into float ones \(ConvInteger x2 → Conv\), .*Dynamic quantization computes its activation ranges at run time and stores none: the calibration comes from your samples\n/);
    expect(r.stdout).toMatch(/\nthe file's own quantized model: cos 0\.99\d+/);
    // without --dequantize the file is said to be quantized, and how to open it as float
    r = await qbench('eval', '--model', join(f.dir, 'model.qop.onnx'), '--data', f.data);
    expect(r.stdout).toMatch(/note: this model is already quantized: QOperator \(integer operators\), QLinearConv x2\. .*CLI: --dequantize/);
  });

  it('bad input: a message naming the file on stderr and exit code 1', async () => {
    const f = fixture();
    writeFileSync(join(f.dir, 'notes.onnx'), 'not a model');
    let r = await qbench('eval', '--model', join(f.dir, 'notes.onnx'), '--data', f.data);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^qbench: notes\.onnx: this is not an ONNX model/);
    const wrong = join(f.dir, 'wrong.npy');
    writeFileSync(wrong, formatNpy({ dtype: 'float32', dims: [1, 3, 8, 8], data: new Float32Array(192) }));
    r = await qbench('eval', '--model', f.model, '--data', wrong);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('wrong.npy');
    expect(r.stderr).toContain('[1, 3, 10, 10]');
    writeFileSync(join(f.dir, 'bad.qtable'), 'conv_a F9\n');
    r = await qbench('eval', '--model', f.model, '--data', f.data, '--qtable', join(f.dir, 'bad.qtable'));
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('qbench: bad.qtable: line 1: unknown quantize mode "F9" for conv_a (expected one of F32, F16, BF16, INT8, INT16, INT4)\n');
    r = await qbench('eval', '--model', join(f.dir, 'missing.onnx'), '--data', f.data);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('missing.onnx: cannot read the model file');
  });

  it('calibrate writes a TPU-MLIR cali_table that eval reads back with the same result', async () => {
    const f = fixture();
    const table = join(f.dir, 'cali_table');
    const { code, stdout } = await qbench('calibrate', '--model', f.model, '--data', f.data, '--cali_method', 'use_percentile9999', '-o', table);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^wrote .*cali_table: 3 tensors, method percentile9999, 3 samples\n$/); // x, the Relu's output, conv_b's: conv_a's output is fused into the Relu
    const text = readFileSync(table, 'utf8');
    expect(text.split('\n').filter((l) => l && !l.startsWith('#'))).toHaveLength(3);
    const direct = JSON.parse((await qbench('eval', '--model', f.model, '--data', f.data, '--cali_method', 'percentile9999', '--json')).stdout);
    const viaTable = JSON.parse((await qbench('eval', '--model', f.model, '--data', f.data, '--calibration_table', table, '--json')).stdout);
    expect(viaTable.output.cos).toBeCloseTo(direct.output.cos, 6);
  });

  it('calibrate --search search_threshold compares every method and keeps the best', async () => {
    const f = fixture();
    const { code, stdout } = await qbench('calibrate', '--model', f.model, '--data', f.data, '--search', 'search_threshold', '-o', join(f.dir, 't'), '--json');
    expect(code).toBe(0);
    const result = JSON.parse(stdout);
    expect(result.search).toHaveLength(9);
    const best = result.search.reduce((a: { cos: number }, b: { cos: number }) => (b.cos > a.cos ? b : a));
    expect(result.method).toBe(best.method);
  });

  it('calibrate and eval apply the corrections of TPU-MLIR\'s flags and report what each did', async () => {
    const f = fixture();
    const b = new GraphBuilder({ seed: 8 });
    let x = b.input('x', [1, 3, 10, 10]);
    const params = [[0.5, 1.5], [-0.5, 0.5], [-0.5, 0.5], [0.1, 2]].map(([lo, hi]) => b.constant(Float32Array.from({ length: 6 }, () => lo + (hi - lo) * b.random()), [6]));
    x = b.node('BatchNormalization', [b.conv(x, 6, 3, { name: 'conv_a' }), ...params], {}, 1, undefined, 'bn_a')[0];
    b.output(b.conv(b.relu(x), 4, 3, { name: 'conv_b' }));
    const model = join(f.dir, 'bn.onnx');
    writeFileSync(model, b.toBytes());
    const flags = ['--model', model, '--data', f.data, '--cali_method', 'kl', '--fold_bn', '--we', '--bc', '--min_layer_cos', '1', '--tune_num', '2'];
    const { code, stdout } = await qbench('calibrate', ...flags, '-o', join(f.dir, 't'), '--json');
    expect(code).toBe(0);
    const { corrections } = JSON.parse(stdout);
    expect(corrections).toMatchObject({ foldBatchNorm: true, equalize: true, smoothQuant: false, biasCorrection: true, tuneThresholds: true, tuneNum: 2, minLayerCos: 1 });
    expect(corrections.effects.foldedBatchNorms).toBe(1);
    expect(corrections.effects.equalizedPairs).toBe(1); // conv_a (with bn_a folded in) -> Relu -> conv_b
    expect(corrections.effects.biasCorrection.layers).toBe(2); // min_layer_cos 1: every 8-bit conv
    expect(corrections.effects.tunedTensors).toBeGreaterThanOrEqual(0);

    const text = await qbench('eval', ...flags);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('BatchNorm folding: 1 folded\ncross-layer equalization: 1 pairs\nbias correction: 2 convolutions, output cos ');
    expect(text.stdout).toMatch(/threshold tuning: \d+ KL thresholds moved \(tune_num 2\)/);
    expect(text.stdout).not.toContain('bn_a');

    const noKl = await qbench('calibrate', '--model', model, '--data', f.data, '--tune_num', '2', '-o', 'x');
    expect(noKl.code).toBe(2);
    expect(noKl.stderr).toContain('qbench: --tune_num tunes KL thresholds: use it with --cali_method kl');
    const noBc = await qbench('eval', '--model', model, '--data', f.data, '--min_layer_cos', '0.9');
    expect(noBc.code).toBe(2);
    expect(noBc.stderr).toContain('qbench: --min_layer_cos and --bc_inference_num set up bias correction: add --bc');
  });

  it('bad usage: exit code 2 with the usage text', async () => {
    const r = await qbench('eval', '--data', 'x');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('qbench: --model is required');
    expect(r.stderr).toContain('Usage:');
    expect((await qbench('frobnicate')).code).toBe(2);
    const bad = await qbench('calibrate', '--model', 'm.onnx', '--data', 'd', '--cali_method', 'entropy', '-o', 'x');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('qbench: --cali_method must be one of max, percentile9999, minmax_percentile, moving_average, kl, kl_tensorrt, mse, aciq_gauss, aciq_laplace');
  });

  it('search sensitive --json prints the ranking, the result\'s output similarity and the wall time, and writes the qtable', async () => {
    const f = fixture();
    const out = join(f.dir, 'sensitive.qtable');
    const r = await qbench('search', 'sensitive', '--model', f.model, '--data', f.data, '--workers', '1', '-o', out, '--json');
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result).toMatchObject({ search: 'sensitive', metric: 'rescaled_cos', target: 0.99, samples: 3, workers: 1, out });
    expect(result.outputCos).toBeGreaterThan(0.9);
    expect(result.wallMs).toBeGreaterThan(0);
    // one unit per convolution (conv_a carries its Relu), most sensitive first, each with its best method
    expect(result.ranking.map((u: { layer: string }) => u.layer).sort()).toEqual(['conv_a', 'conv_b']);
    expect(result.ranking.find((u: { layer: string }) => u.layer === 'conv_a').layers).toEqual(['conv_a', 'Relu_4']);
    expect(result.ranking[0].loss).toBeGreaterThanOrEqual(result.ranking[1].loss);
    expect(['max', 'percentile9999', 'kl']).toContain(result.ranking[0].method);
    expect(readFileSync(out, 'utf8')).toContain('# sample number: 3');
  });

  it('search sensitive --new_cali_table writes the cali_table with each ranked layer at its best method\'s threshold', async () => {
    const f = fixture();
    const newCali = join(f.dir, 'new_cali_table');
    const r = await qbench('search', 'sensitive', '--model', f.model, '--data', f.data, '--workers', '1', '--cali_method', 'kl', '-o', join(f.dir, 's.qtable'), '--new_cali_table', newCali, '--json');
    expect(r.code, r.stderr).toBe(0);
    const ranking: { layer: string; method: string }[] = JSON.parse(r.stdout).ranking;
    expect(ranking.some((u) => u.method !== 'kl')).toBe(true); // so the file differs from the KL table in use
    const threshold = (text: string, op: string) => Number(text.split('\n').find((l) => l.startsWith(`${op} `))!.split(/\s+/)[1]);
    const written = readFileSync(newCali, 'utf8');
    // conv_b's output is conv_7_Conv; conv_a's unit ends in its Relu, relu_3_Relu (TPU-MLIR op names)
    for (const [layer, op] of [['conv_b', 'conv_7_Conv'], ['conv_a', 'relu_3_Relu']]) {
      const method = ranking.find((u) => u.layer === layer)!.method;
      const out = join(f.dir, `${method}.cali`);
      expect((await qbench('calibrate', '--model', f.model, '--data', f.data, '--cali_method', method, '-o', out)).code).toBe(0);
      expect(threshold(written, op)).toBeCloseTo(threshold(readFileSync(out, 'utf8'), op), 6);
    }
    const bad = await qbench('search', 'bisection', '--model', f.model, '--data', f.data, '-o', join(f.dir, 'x'), '--new_cali_table', newCali);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--new_cali_table needs a search that ranks layers (sensitive or qtable), not bisection');
  });

  it('search bisection writes the qtable and the ONE layer configuration, both naming the INT16 layers', async () => {
    const f = fixture();
    const out = join(f.dir, 'bisection.qtable');
    const config = join(f.dir, 'bisection.json');
    const r = await qbench('search', 'bisection', '--model', f.model, '--data', f.data, '--workers', '1', '-o', out, '--one_config', config);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Full int16 model qerror:');
    // all-INT8's qerror is 190x all-INT16's here; no cut below depth 2 meets half-way, so all go INT16
    const { table } = parseQTable(readFileSync(out, 'utf8'), 'bisection.qtable');
    expect(table.layers).toEqual(new Map([['conv_a', 'INT16'], ['Relu_4', 'INT16'], ['conv_b', 'INT16']])); // written in natural name order
    const one = JSON.parse(readFileSync(config, 'utf8'));
    expect(one.default_quantization_dtype).toBe('uint8');
    expect(one.layers).toHaveLength(1);
    expect(one.layers[0]).toMatchObject({ dtype: 'int16', granularity: 'channel' });
    expect(one.layers[0].names).toHaveLength(3);
  });

  it('search fp_forward --fpfwd_outputs keeps the layer and everything after it in float', async () => {
    const f = fixture();
    const out = join(f.dir, 'fpfwd.qtable');
    const r = await qbench('search', 'fp_forward', '--model', f.model, '--data', f.data, '--workers', '1', '--fpfwd_outputs', 'conv_b', '--fp_type', 'F16', '-o', out, '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).qtable).toEqual([{ layer: 'conv_b', op: 'Conv', precision: 'FP16' }]);
    expect([...parseQTable(readFileSync(out, 'utf8'), 'fpfwd.qtable').table.layers]).toEqual([['conv_b', 'FP16']]);
  });

  it('search: bad usage exits 2 naming the problem; an unknown layer exits non-zero naming it', async () => {
    const f = fixture();
    const unknown = await qbench('search', 'frobnicate', '--model', f.model, '--data', f.data, '-o', join(f.dir, 'x'));
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('search takes one of sensitive, qtable, run_qtable, bisection, fp_forward, pattern, pattern_resolver; got "frobnicate"');
    const noOut = await qbench('search', 'sensitive', '--model', f.model, '--data', f.data);
    expect(noOut.code).toBe(2);
    expect(noOut.stderr).toContain('-o (the qtable to write) is required');
    const mode = await qbench('search', 'bisection', '--model', f.model, '--data', f.data, '--bisection', 'maybe', '-o', join(f.dir, 'x'));
    expect(mode.code).toBe(2);
    expect(mode.stderr).toContain('--bisection is auto, true or false; got "maybe"');
    const layer = await qbench('search', 'fp_forward', '--model', f.model, '--data', f.data, '--fpfwd_inputs', 'conv_z', '-o', join(f.dir, 'x'));
    expect(layer.code).not.toBe(0);
    expect(layer.stderr).toContain('conv_z');
  });
});

describe('qbench eval on an output built by a Concat (issue #11)', () => {
  it('scores each part, heads with the worst part, and warns on stderr and in the JSON', async () => {
    const { yoloHead } = await import('../test/support/yoloHead');
    const dir = mkdtempSync(join(tmpdir(), 'qbench-parts-'));
    writeFileSync(join(dir, 'yolo_head.onnx'), yoloHead());
    const files = randomSamples('x', [1, 16, 64], 4, 3).map((s, i) => {
      const path = join(dir, `s${i}.npy`);
      writeFileSync(path, formatNpy({ ...s.x, data: s.x.data.map((v) => Math.abs(v) * 4) }));
      return path;
    });
    const { code, stdout, stderr } = await qbench('eval', '--model', join(dir, 'yolo_head.onnx'), '--data', files.join(','), '--json');
    expect(code).toBe(0);
    const result = JSON.parse(stdout);
    const [output] = result.outputs;
    expect(output.parts).toHaveLength(2);
    expect(output.metrics.cos).toBeGreaterThan(0.99);
    const lost = output.parts.find((p: { cos: number }) => p.cos < 0.5);
    expect(lost.range[0]).toBeGreaterThanOrEqual(0);
    expect(lost.range[1]).toBeLessThanOrEqual(1); // the probabilities
    expect(result.worst).toEqual({ output: output.name, part: lost.name });
    expect(result.output.cos).toBe(lost.cos);
    expect(result.warnings).toEqual([expect.objectContaining({ kind: 'collapsed-part', layer: 'detections' }), expect.objectContaining({ kind: 'task-cliff', layer: 'detections' })]);
    expect(stderr).toMatch(/^warning: part .* is lost/m);
    // in the detector's own terms: it was told a detector, and finds almost nothing the float model finds
    expect(output.task).toBe('detector');
    expect(output.metrics.f1).toBeLessThan(0.1);
    expect(output.metrics.floatDetections).toBeGreaterThan(1);

    // --task makes it a plain tensor (cosine only); an output that does not exist is bad input
    const other = await qbench('eval', '--model', join(dir, 'yolo_head.onnx'), '--data', files.join(','), '--json', '--task', `${output.name}=other`);
    expect(JSON.parse(other.stdout).outputs[0]).toMatchObject({ task: 'other' });
    expect(JSON.parse(other.stdout).outputs[0].metrics.f1).toBeUndefined();
    const missing = await qbench('eval', '--model', join(dir, 'yolo_head.onnx'), '--data', files.join(','), '--task', 'nope=classifier');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no output "nope"/);
    expect((await qbench('eval', '--model', join(dir, 'yolo_head.onnx'), '--data', files.join(','), '--task', 'x=segmenter')).code).toBe(2);
  }, 180_000);
});

describe('qbench eval with labels (issue #11)', () => {
  it('--labels folders: a classifier\'s accuracy, float and quantized, from the class folders', async () => {
    const { DEMO_IMAGE_DIR, REAL_MODELS } = await import('../test/support/models');
    const { mkdirSync, readdirSync, copyFileSync } = await import('node:fs');
    const dir = mkdtempSync(join(tmpdir(), 'qbench-labels-'));
    writeFileSync(join(dir, 'cls.onnx'), REAL_MODELS.ppocrCls());
    const images = readdirSync(DEMO_IMAGE_DIR).slice(0, 4);
    // folders named by class index: 0 (upright) and 1 (turned)
    images.forEach((name, i) => {
      mkdirSync(join(dir, 'data', String(i % 2)), { recursive: true });
      copyFileSync(join(DEMO_IMAGE_DIR, name), join(dir, 'data', String(i % 2), name));
    });
    const flags = ['--model', join(dir, 'cls.onnx'), '--data', join(dir, 'data'), '--input_size', '48,192', '--json'];
    const byFolders = await qbench('eval', ...flags, '--labels', 'folders');
    expect(byFolders.code, byFolders.stderr).toBe(0);
    const [output] = JSON.parse(byFolders.stdout).outputs;
    expect(output.task).toBe('classifier');
    // half the samples are in each class: whatever the model answers, float accuracy is a multiple of 1/4
    expect(output.metrics).toHaveProperty('floatAccuracy');
    expect(output.metrics.floatAccuracy * 4).toBeCloseTo(Math.round(output.metrics.floatAccuracy * 4), 9);
    expect(output.metrics.accuracy).toBeGreaterThanOrEqual(0);
  }, 120_000);
});
