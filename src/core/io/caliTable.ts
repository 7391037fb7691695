import type { CaliEntry, CaliTable } from '../model/CaliTable';
import { FormatError, QbenchError } from '../errors';
import type { GraphNode } from '../model/ModelGraph';
import { tensorResolver, tpuMlirOpName } from './tensorNames';

/**
 * TPU-MLIR calibration table (docs/formats.md "cali_table"): `#` header lines, then one
 * `<op_name> <threshold> <min> <max>` per tensor with 7 decimals, then optional sections `#int4_th`
 * (same columns), `#asym_op` and `#int4_op` (one op name per line).
 *
 * What TPU-MLIR itself does, and why this module does the same:
 * - Writer: run_calibration prints `"{} {:.7f} {:.7f} {:.7f}\n"` per tensor
 *   (sophgo/tpu-mlir python/calibration/kld_calibrator.py, ActivationCalibrator.dump_cali_table).
 * - Reader: ImportCalibrationTablePass (sophgo/tpu-mlir lib/Dialect/Top/Transforms/ImportCalibration.cpp)
 *   keeps a data line only if it matches `\S+\s+[-0-9.e]+\s+[-0-9.e]+\s+[-0-9.e]+` and silently
 *   skips any other line, so a value written as `1e+21` or `inf` would vanish there: we write fixed
 *   point only and refuse non-finite values. A `#` line switches section when it contains
 *   `#int4_th`, `asym_op`, `int4_op`, `#weight_scale` or `#tpu-mlir-fp8`; other `#` lines are comments
 *   that keep the current section. In `#asym_op`/`#int4_op` an empty line stops it with "not match
 *   required format", so the writer puts no blank lines anywhere.
 * - Names: an entry is matched against `module::getName(value)`, the MLIR location of the op's
 *   result. TPU-MLIR's ONNX converter (python/transform/OnnxConverter.py) names a node after its first
 *   output and gives its op the location `"{}_{}".format(name, op_type)`; graph inputs keep their
 *   own name. Real tables show it: `images 1.0000080 ...`, `/model.0/conv/Conv_output_0_Conv ...`,
 *   one line per Split output (`/model.2/Split_output_1_Split`) in
 *   regression/cali_tables/yolov8n_cali_table. A line whose name matches nothing is ignored there
 *   (min = max = 0: the tensor stays uncalibrated), so a table keyed by bare ONNX tensor names
 *   would import without error and calibrate nothing. Hence: given the model's nodes, the writer
 *   writes `<tensor>_<OpType>` for node outputs and the bare name for graph inputs; without nodes it
 *   writes qbench's tensor names as they are. The reader accepts both forms, and node names.
 *   (TPU-MLIR folds and fuses some ops, e.g. Identity/Dropout, a few ops such as Ceil are located by
 *   the bare name: entries for those do not match in TPU-MLIR whatever we write.)
 * In qbench a CaliTable is keyed by tensor name (docs/architecture.md glossary).
 */

export interface CaliTableHeader {
  /** Default: the table's own `histogramBins`. */
  readonly histogramBins?: number;
  /** Default: the table's own `sampleCount`. */
  readonly sampleCount?: number;
  /** Default: now. TPU-MLIR's header spells it "genetated"; kept so diffs stay quiet. */
  readonly generatedAt?: Date;
  /** The model's nodes: node outputs are then written as TPU-MLIR op names `<tensor>_<OpType>`. */
  readonly nodes?: readonly GraphNode[];
}

const DATA_COLUMNS = '# op_name    threshold    min    max';

/**
 * @example formatCaliTable({entries: new Map([['input', {threshold: 2.64, min: -2.1179039, max: 2.64, source: 'max'}]])},
 *   {generatedAt: new Date('2026-11-21T12:00:00Z')})
 * // "# mlir version: qbench\n# genetated time: 2026-11-21 12:00:00\n###\n# op_name    threshold    min    max\n
 * //  input 2.6400000 -2.1179039 2.6400000\n"
 */
export function formatCaliTable(table: CaliTable, header: CaliTableHeader = {}): string {
  const opName = header.nodes ? opNamer(header.nodes) : (tensor: string) => tensor;
  const histogramBins = header.histogramBins ?? table.histogramBins;
  const sampleCount = header.sampleCount ?? table.sampleCount;
  const time = (header.generatedAt ?? new Date()).toISOString().replace('T', ' ').slice(0, 19);
  const lines = [
    '# mlir version: qbench',
    `# genetated time: ${time}`,
    ...(histogramBins !== undefined ? [`# histogram number: ${histogramBins}`] : []),
    ...(sampleCount !== undefined ? [`# sample number: ${sampleCount}`] : []),
    '###',
    DATA_COLUMNS,
    ...[...table.entries].map(([tensor, entry]) => dataLine(opName(tensor), entry)),
  ];
  if (table.int4Entries && table.int4Entries.size > 0) {
    lines.push('#int4_th', ...[...table.int4Entries].map(([tensor, entry]) => dataLine(opName(tensor), entry)));
  }
  if (table.asymOps && table.asymOps.length > 0) lines.push('#asym_op', ...table.asymOps.map((t) => checkedName(opName(t))));
  if (table.int4Ops && table.int4Ops.length > 0) lines.push('#int4_op', ...table.int4Ops.map((t) => checkedName(opName(t))));
  return lines.join('\n') + '\n';
}

function opNamer(nodes: readonly GraphNode[]): (tensor: string) => string {
  const names = new Map<string, string>();
  for (const node of nodes) for (const output of node.outputs) if (output && !names.has(output)) names.set(output, tpuMlirOpName(output, node.opType));
  return (tensor) => names.get(tensor) ?? tensor;
}

function dataLine(name: string, entry: CaliEntry): string {
  const field = (label: string, value: number) => {
    if (!Number.isFinite(value)) {
      throw new QbenchError(`cannot write ${name} to a TPU-MLIR calibration table: its ${label} is ${value}, and TPU-MLIR reads only finite numbers`);
    }
    // toFixed switches to exponent notation from 1e21 on, which TPU-MLIR's line pattern rejects;
    // such a double is a whole number, written out digit by digit (real activations reach it in
    // models whose weights are constant fills, e.g. the ONNX test suite's light_inception_v1).
    return Math.abs(value) >= 1e21 ? `${BigInt(value)}.0000000` : value.toFixed(7);
  };
  return `${checkedName(name)} ${field('threshold', entry.threshold)} ${field('min', entry.min)} ${field('max', entry.max)}`;
}

function checkedName(name: string): string {
  if (name === '' || /\s/.test(name) || name.startsWith('#')) {
    throw new QbenchError(`cannot write ${JSON.stringify(name)} to a TPU-MLIR calibration table: TPU-MLIR splits its lines on whitespace and reads "#" lines as comments, so a name must be non-empty, without spaces and not start with "#"`);
  }
  return name;
}

export interface ParsedCaliTable {
  readonly table: CaliTable;
  /** Names the model does not have (only with `nodes`), kept to tell the user. */
  readonly unknownTensors: string[];
  /** Sections qbench reads past, e.g. `#weight_scale` (per-channel weight scales from sophgo_mq). */
  readonly ignoredSections: string[];
}

type Section = 'int8' | 'int4' | 'asym' | 'int4op' | 'weightScale';

/**
 * Parses a cali_table. With `nodes`, names are resolved to qbench tensor names: a tensor name, a
 * TPU-MLIR op name `<output>_<OpType>` or a node name (its first output); others are reported in
 * `unknownTensors` and left out. Without `nodes`, names are kept as written.
 * Numbers may use exponent notation (`1e-05`, as sophgo_mq's exporter writes them).
 */
export function parseCaliTable(text: string, fileName: string, nodes?: readonly GraphNode[]): ParsedCaliTable {
  const resolve = nodes ? tensorResolver(nodes) : (name: string) => name;
  const entries = new Map<string, CaliEntry>();
  let int4Entries: Map<string, CaliEntry> | undefined;
  let asymOps: string[] | undefined;
  let int4Ops: string[] | undefined;
  let sampleCount: number | undefined;
  let histogramBins: number | undefined;
  // A Set, not Array.includes: a table of 100,000 names the model lacks must not cost 10^10 comparisons.
  const unknown = new Set<string>();
  const ignoredSections: string[] = [];
  let section: Section = 'int8';

  const known = (name: string): string | undefined => {
    const tensor = resolve(name);
    if (tensor === undefined) unknown.add(name);
    return tensor;
  };

  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    const where = `line ${index + 1}`;
    if (line === '') return;
    if (line.startsWith('#')) {
      // Same tests, same order as ImportCalibration.cpp's check_flag_line.
      if (line.includes('#weight_scale')) {
        section = 'weightScale';
        if (!ignoredSections.includes('#weight_scale')) ignoredSections.push('#weight_scale');
      } else if (line.includes('#int4_th')) {
        section = 'int4';
        int4Entries ??= new Map();
      } else if (line.includes('#tpu-mlir-fp8') || line.includes('mqbench-fp8')) {
        throw new FormatError(fileName, `${where}: this is an FP8 calibration table ("${line}"); qbench reads INT8 and INT4 thresholds only`);
      } else if (line.includes('asym_op')) {
        section = 'asym';
        asymOps ??= [];
      } else if (line.includes('int4_op')) {
        section = 'int4op';
        int4Ops ??= [];
      } else {
        const samples = /^#\s*sample number:\s*(\d+)\s*$/i.exec(line);
        if (samples) sampleCount = Number(samples[1]);
        const bins = /^#\s*histogram number:\s*(\d+)\s*$/i.exec(line);
        if (bins) histogramBins = Number(bins[1]);
      }
      return;
    }
    const fields = line.split(/\s+/);
    if (section === 'weightScale') return;
    if (section === 'asym' || section === 'int4op') {
      const header = section === 'asym' ? '#asym_op' : '#int4_op';
      if (fields.length !== 1) throw new FormatError(fileName, `${where}: expected one op name per line in the ${header} section, found "${line}"`);
      const tensor = known(fields[0]);
      if (tensor !== undefined) (section === 'asym' ? asymOps! : int4Ops!).push(tensor);
      return;
    }
    if (fields.length !== 4) {
      throw new FormatError(fileName, `${where}: expected 4 fields "<op_name> <threshold> <min> <max>", found ${fields.length} in "${line}"`);
    }
    const [name, ...numbers] = fields;
    const [threshold, min, max] = numbers.map((value, i) => {
      if (!NUMBER.test(value)) {
        throw new FormatError(fileName, `${where}: the ${['threshold', 'min', 'max'][i]} of ${name} is "${value}", expected a decimal number`);
      }
      return Number(value);
    });
    checkEntry(fileName, where, name, threshold, min, max);
    const tensor = known(name);
    if (tensor === undefined) return;
    (section === 'int4' ? int4Entries! : entries).set(tensor, { threshold, min, max, source: 'imported' });
  });

  const table: CaliTable = {
    entries,
    ...(int4Entries ? { int4Entries } : {}),
    ...(asymOps ? { asymOps } : {}),
    ...(int4Ops ? { int4Ops } : {}),
    ...(sampleCount !== undefined ? { sampleCount } : {}),
    ...(histogramBins !== undefined ? { histogramBins } : {}),
  };
  return { table, unknownTensors: [...unknown], ignoredSections };
}

/**
 * Values a range cannot have: a number past float64 ("1e999" reads as Infinity and turns every
 * similarity into NaN), a threshold that is not above zero (TPU-MLIR floors its own at 1e-5), a
 * min above the max.
 */
function checkEntry(fileName: string, where: string, name: string, threshold: number, min: number, max: number): void {
  const fail = (problem: string): never => {
    throw new FormatError(fileName, `${where}: ${problem}`);
  };
  for (const [label, value] of [['threshold', threshold], ['min', min], ['max', max]] as const) {
    if (!Number.isFinite(value)) fail(`the ${label} of ${name} is out of range (${value}); a calibration range is a finite number`);
  }
  if (threshold <= 0) fail(`the threshold of ${name} is ${threshold}; a threshold is above 0 (TPU-MLIR floors its own at 1e-5)`);
  if (min > max) fail(`the min of ${name} (${min}) is above its max (${max})`);
}

/** A finite decimal, with optional sign and exponent; no inf, nan or hex. */
const NUMBER = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/;
