import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, ftruncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatNpy } from '../src/core/io/dataset/npy';
import { GraphBuilder } from '../test/support/GraphBuilder';
import { runQbench } from '../test/support/runQbench';


/** Runs the real `qbench` command; returns its exit code, output and how long it took. */
/** The real `qbench` command, as a user runs it (test/support/runQbench.ts). */
const qbench = (...args: string[]) => runQbench(args);

/** A one-Conv model on [1, 3, 8, 8] and three .npy samples. */
function fixture() {
  const dir = mkdtempSync(join(tmpdir(), 'qbench-limits-'));
  const b = new GraphBuilder({ seed: 2 });
  b.output(b.conv(b.input('x', [1, 3, 8, 8]), 4, 3, { name: 'conv' }));
  writeFileSync(join(dir, 'model.onnx'), b.toBytes());
  for (let i = 0; i < 3; i++) writeFileSync(join(dir, `s${i}.npy`), formatNpy({ dtype: 'float32', dims: [1, 3, 8, 8], data: Float32Array.from({ length: 192 }, (_, k) => Math.sin(k + i)) }));
  return { dir, model: join(dir, 'model.onnx'), data: [0, 1, 2].map((i) => join(dir, `s${i}.npy`)).join(',') };
}

/** The first line qbench wrote on stderr (the usage follows a usage error). */
const firstLine = (stderr: string) => stderr.split('\n')[0];

describe('qbench: bad flag values are usage errors (exit 2) naming the flag, before any file is read', () => {
  // The files need not exist: flags are checked first.
  const files = ['--model', 'absent.onnx', '--data', 'absent.npy'];

  it.each([
    [['--max_samples', 'abc'], 'qbench: --max_samples takes a positive whole number, got "abc"'],
    [['--max_samples', '0'], 'qbench: --max_samples takes a positive whole number, got "0"'],
    [['--threads', 'abc'], 'qbench: --threads takes a positive whole number, got "abc"'],
    [['--threads', '1000'], 'qbench: --threads 1000 (1,000), over the limit of 64 threads; raise it with --max_threads N (CLI)'],
    [['--input_size', '99999,99999'], 'qbench: --input_size 99999,99999 has a side (99,999), over the limit of 8,192 pixels per side; raise it with --max_input_side N (CLI) or Data & calibration → Limits → Input side (page)'],
    [['--input_size', '320,-1'], 'qbench: --input_size takes two positive whole numbers H,W, got "320,-1"'],
    [['--resize_dims', '256,1.5'], 'qbench: --resize_dims takes two positive whole numbers H,W, got "256,1.5"'],
    [['--max_tensor_bytes', 'lots'], 'qbench: --max_tensor_bytes takes a positive whole number of bytes (K, M, G and T suffixes allowed), got "lots"'],
    [['--max_image_pixels', '0'], 'qbench: --max_image_pixels takes a positive whole number, got "0"'],
  ])('eval %j', async (flags, message) => {
    const r = await qbench('eval', ...files, ...flags);
    expect(r.code).toBe(2);
    expect(firstLine(r.stderr)).toBe(message);
  });

  it('a raised limit lets the value through to the next check; --workers is held to the thread limit', async () => {
    let r = await qbench('eval', ...files, '--input_size', '9000,9000', '--max_input_side', '9000');
    expect(r.code).toBe(1); // past the flags: the model file is absent
    expect(r.stderr).toMatch(/absent\.onnx: cannot read the model file/);
    r = await qbench('search', 'sensitive', ...files, '-o', 'out.qtable', '--workers', '100000');
    expect(r.code).toBe(2);
    expect(firstLine(r.stderr)).toBe('qbench: --workers 100000 (100,000), over the limit of 64 threads; raise it with --max_threads N (CLI)');
  });
});

describe('qbench: files that are not regular, or over the model limit, are refused before they are read (exit 1)', () => {
  it('--model /dev/zero, a FIFO or a directory', async () => {
    const f = fixture();
    let r = await qbench('eval', '--model', '/dev/zero', '--data', f.data);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('qbench: /dev/zero: is a character device, not a regular file: qbench reads the model file from regular files only\n');
    expect(r.ms).toBeLessThan(10_000);
    const fifo = join(f.dir, 'model.fifo');
    execFileSync('mkfifo', [fifo]);
    r = await qbench('eval', '--model', fifo, '--data', f.data);
    expect(r.code).toBe(1); // not a hang waiting for a writer
    expect(r.stderr).toContain('model.fifo: is a FIFO (named pipe), not a regular file');
    r = await qbench('eval', '--model', f.dir, '--data', f.data);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/: is a directory, not a regular file: qbench reads the model file from regular files only/);
  });

  it('--data /dev/zero, a FIFO among the data, a table that is a FIFO', async () => {
    const f = fixture();
    let r = await qbench('eval', '--model', f.model, '--data', '/dev/zero');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('/dev/zero: is a character device, not a regular file: qbench reads calibration data from regular files only');
    const classes = join(f.dir, 'classes');
    mkdirSync(join(classes, 'cat'), { recursive: true });
    execFileSync('mkfifo', [join(classes, 'cat', 'pipe.npy')]);
    r = await qbench('eval', '--model', f.model, '--data', classes);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('pipe.npy: is a FIFO (named pipe), not a regular file');
    const table = join(f.dir, 'table.fifo');
    execFileSync('mkfifo', [table]);
    r = await qbench('eval', '--model', f.model, '--data', f.data, '--qtable', table);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('table.fifo: is a FIFO (named pipe), not a regular file: qbench reads the qtable from regular files only');
  });

  it('a 3 GB (sparse) model is refused from its size, without being read; a lower --max_model_bytes refuses a small one', async () => {
    const f = fixture();
    const big = join(f.dir, 'big.onnx');
    const fd = openSync(big, 'w');
    ftruncateSync(fd, 3_000_000_000); // a hole: no disk used, and reading it would take seconds and 3 GB
    closeSync(fd);
    let r = await qbench('eval', '--model', big, '--data', f.data);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/big\.onnx: the model file's size \(3,000,000,000 \(2\.79 GiB\)\), over the limit of 2,147,483,648 \(2 GiB\) bytes per model; raise it with --max_model_bytes N \(CLI\) or Data & calibration → Limits → Model bytes \(page\)\n$/);
    expect(r.ms).toBeLessThan(10_000);
    r = await qbench('eval', '--model', f.model, '--data', f.data, '--max_model_bytes', '100');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/model\.onnx: the model file's size \([\d,]+( \([\d.]+ KiB\))?\), over the limit of 100 bytes per model; raise it with --max_model_bytes N/);
  });
});

describe('qbench: data over a limit is refused with the file, the limit and the flag (exit 1)', () => {
  it('a PNG declaring 20000 x 20000, a .npy declaring a huge shape, a cali table with 1e999', async () => {
    const f = fixture();
    const ihdr = Buffer.alloc(33);
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(ihdr);
    ihdr.writeUInt32BE(13, 8);
    ihdr.write('IHDR', 12, 'latin1');
    ihdr.writeUInt32BE(20000, 16);
    ihdr.writeUInt32BE(20000, 20);
    ihdr.set([8, 6, 0, 0, 0], 24);
    writeFileSync(join(f.dir, 'wide.png'), ihdr);
    let r = await qbench('eval', '--model', f.model, '--data', join(f.dir, 'wide.png'));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('wide.png: the PNG header declares 20000 x 20000 pixels (400,000,000), over the limit of 67,108,864 pixels per image; raise it with --max_image_pixels N (CLI)');

    const npy = formatNpy({ dtype: 'float32', dims: [1], data: new Float32Array(1) });
    const header = Buffer.from(npy).toString('latin1').replace('(1,)', '(9000000, 3, 8, 8)');
    writeFileSync(join(f.dir, 'huge.npy'), Buffer.from(header, 'latin1'));
    r = await qbench('eval', '--model', f.model, '--data', join(f.dir, 'huge.npy'));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("huge.npy: the header declares shape [9000000, 3, 8, 8] of '<f4' (6,912,000,000 (6.44 GiB)), over the limit of 1,073,741,824 (1 GiB) bytes per array; raise it with --max_tensor_bytes N (CLI)");
    // Raised, the same file gets past the limit to the next check (it holds no data).
    r = await qbench('eval', '--model', f.model, '--data', join(f.dir, 'huge.npy'), '--max_tensor_bytes', '8G');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('huge.npy: truncated: shape [9000000, 3, 8, 8]');

    writeFileSync(join(f.dir, 'cali_table'), '# op_name threshold min max\nx 1e999 -1 1\n');
    r = await qbench('eval', '--model', f.model, '--data', f.data, '--calibration_table', join(f.dir, 'cali_table'));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('cali_table: line 2: the threshold of x is out of range (Infinity); a calibration range is a finite number');
  });

  it('within the limits, --max_samples and --threads work as before', async () => {
    const f = fixture();
    const r = await qbench('eval', '--model', f.model, '--data', f.data, '--max_samples', '2', '--threads', '1', '--max_tensor_bytes', '1M', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).samples).toBe(2);
  });
});
