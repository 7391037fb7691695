import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatNpy } from '../src/core/io/dataset/npy';
import { onnx } from '../src/core/io/onnx/protobuf';
import { externalDataModel, unreadableFile, wasRead } from '../test/support/externalData';
import { GraphBuilder, randomSamples } from '../test/support/GraphBuilder';
import { writeOneH5 } from '../test/support/oneH5';
import { runQbench } from '../test/support/runQbench';

// Issue #12, items 3 and 5: no file read that the user did not give; every failure one line
// that names the file, with no onnxruntime or HDF5 logging, stack trace or colour code.


/** Runs the real `qbench` in `cwd`. */
/** The real `qbench` command, as a user runs it (test/support/runQbench.ts). */
const qbench = (cwd: string, ...args: string[]) => runQbench(args, { cwd });

/** A folder with `model.onnx`-like files written by the caller and two samples for x [1,3,8,8]. */
function folder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'qbench-messages-'));
  randomSamples('x', [1, 3, 8, 8], 2).forEach((s, i) => writeFileSync(join(dir, `s${i}.npy`), formatNpy(s.x)));
  return dir;
}

const SAMPLES = 's0.npy,s1.npy';
const COMMANDS: readonly (readonly string[])[] = [['calibrate', '-o', 'out.cali'], ['eval'], ['export', '--out', 'out.onnx'], ['search', 'sensitive', '-o', 'out.qtable']];

describe('qbench never reads a file it was not given (issue #12)', () => {
  it.each(COMMANDS)('%s, run from the folder that holds the file an If branch names: refused in one line, the file never read, nothing written', async (...command) => {
    const dir = folder();
    const secret = unreadableFile(dir, 'secrets/token.bin');
    writeFileSync(join(dir, 'branchy.onnx'), externalDataModel(['if-initializer'], 'secrets/token.bin'));
    const { code, stdout, stderr } = await qbench(dir, ...command, '--model', 'branchy.onnx', '--data', SAMPLES);
    expect(stderr).toBe('qbench: branchy.onnx: tensor "w_0" (an initializer in the_if/then_branch) keeps its data in an external file (secrets/token.bin); qbench reads weights only from inside the .onnx file and never opens a file it was not given. Save the model with its weights inside (onnx.save(model, path, save_as_external_data=False)) and open that file.\n');
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(wasRead(secret)).toBe(false);
    for (const out of ['out.cali', 'out.onnx', 'out.qtable']) expect(existsSync(join(dir, out))).toBe(false);
  });

  it('a Constant node in a branch and one in the main graph are refused the same way', async () => {
    const dir = folder();
    const secret = unreadableFile(dir, 'token.bin');
    writeFileSync(join(dir, 'consts.onnx'), externalDataModel(['if-constant', 'main-constant'], 'token.bin'));
    const { code, stderr } = await qbench(dir, 'eval', '--model', 'consts.onnx', '--data', SAMPLES);
    expect(stderr).toMatch(/^qbench: consts\.onnx: tensor "w_0" \(attribute "value" of Constant node "w_0_const" in the_if\/then_branch\) keeps its data in an external file \(token\.bin\) \(and 1 more tensor\); [^\n]*\n$/);
    expect(code).toBe(1);
    expect(wasRead(secret)).toBe(false);
  });
});

describe('every failure is one line naming the file, without onnxruntime\'s or HDF5\'s own text (issue #12)', () => {
  it('a model that fails inside onnxruntime: the file, the step, the sample, the node and its reason; no log lines, no colour codes', async () => {
    const dir = folder();
    const b = new GraphBuilder({ seed: 2 });
    const x = b.input('x', [1, 3, 8, 8]);
    const conv = b.relu(b.conv(x, 4, 3, { name: 'conv_a' }));
    // The Reshape's target is the input's shape, computed at run time: 4 channels do not fit 3.
    const [shape] = b.node('Shape', [x], {}, 1, [4]);
    b.output(b.node('Reshape', [conv, shape], {}, 1, [1, 3, 8, 8], 'bad_reshape')[0]);
    const model = b.toModel();
    model.graph!.input[0].type!.tensorType!.shape!.dim[1] = onnx.TensorShapeProto.Dimension.create({ dimParam: 'c' });
    writeFileSync(join(dir, 'runfail.onnx'), onnx.ModelProto.encode(model).finish());
    const { code, stderr } = await qbench(dir, 'eval', '--model', 'runfail.onnx', '--data', SAMPLES);
    expect(stderr).toBe('qbench: runfail.onnx: calibrating, sample 0 (s0.npy): onnxruntime failed running node "bad_reshape" (Reshape): The input tensor cannot be reshaped to the requested shape. Input shape:{1,4,8,8}, requested shape:{1,3,8,8}\n');
    expect(code).toBe(1);
  });

  it.each(COMMANDS)('%s: a model with no outputs is refused at open, exit 1', async (...command) => {
    const dir = folder();
    const b = new GraphBuilder({ seed: 2 });
    b.relu(b.conv(b.input('x', [1, 3, 8, 8]), 4, 3));
    writeFileSync(join(dir, 'silent.onnx'), b.toBytes());
    const { code, stderr } = await qbench(dir, ...command, '--model', 'silent.onnx', '--data', SAMPLES);
    expect(stderr).toBe('qbench: silent.onnx: the model has no outputs: there is nothing to calibrate, compare or export. Declare the tensors it computes as graph outputs (in onnx: model.graph.output.append(...)) and open it again\n');
    expect(code).toBe(1);
  });

  it('a damaged .h5: one line naming it, none of HDF5\'s diagnostics', async () => {
    const dir = folder();
    const b = new GraphBuilder({ seed: 2 });
    b.output(b.conv(b.input('x', [1, 3, 8, 8]), 4, 3));
    writeFileSync(join(dir, 'model.onnx'), b.toBytes());
    const samples = randomSamples('x', [1, 3, 8, 8], 2);
    const bytes = await writeOneH5(samples, ['x']);
    for (let i = 800; i < 1400; i++) bytes[i] = (i * 37) & 255;
    writeFileSync(join(dir, 'bad.h5'), bytes);
    const { code, stderr } = await qbench(dir, 'eval', '--model', 'model.onnx', '--data', 'bad.h5');
    expect(stderr).toMatch(/^qbench: bad\.h5: HDF5 cannot read the file: it is damaged or truncated \([^)\n]+\)\. Write it again \(h5py\) and use the new file\n$/);
    expect(code).toBe(1);
  });
});
