import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatNpy } from '../src/core/io/dataset/npy';
import { onnx } from '../src/core/io/onnx/protobuf';
import { GraphBuilder, randomSamples } from '../test/support/GraphBuilder';
import { mobileNetV2 } from '../test/support/mobilenetV2';
import { runQbench } from '../test/support/runQbench';


/** The real `qbench` command, as a user runs it (test/support/runQbench.ts). */
const qbench = (env: Record<string, string>, ...args: string[]) => runQbench(args, { env });

function writeModel(bytes: Uint8Array, inputDims: number[], samples: number) {
  const dir = mkdtempSync(join(tmpdir(), 'qbench-fail-'));
  writeFileSync(join(dir, 'model.onnx'), bytes);
  const files = randomSamples('input', inputDims, samples, 5).map((s, i) => {
    const file = join(dir, `s${i}.npy`);
    writeFileSync(file, formatNpy(s.input));
    return file;
  });
  return { dir, model: join(dir, 'model.onnx'), data: files.join(',') };
}

/**
 * A classifier head as PyTorch exports it (the ONNX Model Zoo's MobileNetV2): GlobalAveragePool,
 * then a Reshape to a shape computed from Shape/Gather/Concat, then MatMul + Add, with a symbolic
 * batch dimension, so onnxruntime cannot infer the Reshape output's rank.
 */
function pytorchClassifierHead(): Uint8Array {
  const b = new GraphBuilder({ seed: 3, opset: 12 });
  let x = b.input('input', [1, 3, 32, 32]);
  x = b.relu6(b.conv(x, 16, 3, { stride: 2 }));
  x = b.add(x, b.conv(b.relu6(b.conv(x, 16, 3, { group: 16 })), 16, 1));
  const pooled = b.globalAveragePool(b.relu6(b.conv(x, 32, 1)));
  const [shape] = b.node('Shape', [pooled], {}, 1, [4]);
  const [batch] = b.node('Gather', [shape, b.constant(new BigInt64Array([0n]), [])], { axis: 0 }, 1, []);
  const [batch1] = b.node('Unsqueeze', [batch], { axes: [0] }, 1, [1]);
  const [target] = b.node('Concat', [batch1, b.constant(new BigInt64Array([-1n]), [1])], { axis: 0 }, 1, [2]);
  const [flat] = b.node('Reshape', [pooled, target], {}, 1, [1, 32]);
  const [logits] = b.node('MatMul', [flat, b.weight([32, 10], 0.3)], {}, 1, [1, 10], 'Gemm_104_MatMul');
  b.output(b.node('Add', [logits, b.weight([10], 0.1)], {}, 1, [1, 10])[0]);
  const model = b.toModel();
  model.graph!.input[0].type!.tensorType!.shape!.dim[0] = onnx.TensorShapeProto.Dimension.create({ dimParam: 'batch' });
  model.graph!.output[0].type!.tensorType!.shape!.dim[0] = onnx.TensorShapeProto.Dimension.create({ dimParam: 'batch' });
  return onnx.ModelProto.encode(model).finish();
}

describe('searches on real-shaped models and failing workers', () => {
  it.each(['sensitive', 'run_qtable', 'bisection'])('search %s runs on a model whose Reshape output has no inferable rank (the cut keeps it unranked, not rank 0)', async (search) => {
    const f = writeModel(pytorchClassifierHead(), [1, 3, 32, 32], 4);
    const { code, stderr } = await qbench({}, 'search', search, '--model', f.model, '--data', f.data, '-o', join(f.dir, 'out.qtable'), '--json');
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });

  it('a worker that fails inside the engine mid-search: exit 1 with the model, the layer and the step named, no abort', async () => {
    const f = writeModel(pytorchClassifierHead(), [1, 3, 32, 32], 4);
    const { code, stderr } = await qbench({ QBENCH_FAULT: '1:throw:6' }, 'search', 'sensitive', '--model', f.model, '--data', f.data, '-o', join(f.dir, 'out.qtable'));
    expect(code).toBe(1);
    expect(stderr).toMatch(/^qbench: model\.onnx: ranking layer "[^"]+" \(\d layers?\): onnxruntime failed running node "injected" \(Conv\): injected failure\n$/);
  });

  it('a worker thread that dies mid-search: exit 1 naming the model and the worker, no hang and no abort', async () => {
    const f = writeModel(mobileNetV2(), [1, 3, 224, 224], 4);
    const { code, stderr } = await qbench({ QBENCH_FAULT: '1:exit:2500' }, 'search', 'sensitive', '--model', f.model, '--data', f.data, '-o', join(f.dir, 'out.qtable'), '--workers', '2');
    expect(stderr).toBe('qbench: model.onnx: search worker 2 of 2 stopped unexpectedly (exit code 70); the search cannot go on\n');
    expect(code).toBe(1);
  }, 120_000);

  it.each([['eval'], ['export', '--out', 'x.onnx'], ['search', 'sensitive', '-o', 'x.qtable']])('%s on a model with nothing to quantize refuses in words (exit 1), never cos 1.000000', async (...command) => {
    const b = new GraphBuilder({ seed: 1 });
    const x = b.input('input', [1, 4]);
    b.output(b.node('Identity', [b.node('Identity', [x], {}, 1, [1, 4], 'first')[0]], {}, 1, [1, 4], 'second')[0]);
    const f = writeModel(b.toBytes(), [1, 4], 2);
    const args = command.map((a) => (a.includes('.') ? join(f.dir, a) : a));
    const { code, stdout, stderr } = await qbench({}, ...args, '--model', f.model, '--data', f.data);
    expect(code).toBe(1);
    expect(stderr).toBe('qbench: model.onnx: no layer can be quantized: 2 layers (Identity): Identity is never quantized\n');
    expect(stdout).not.toContain('1.000000');
  });
});
