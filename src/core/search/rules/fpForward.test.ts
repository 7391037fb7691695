import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../../../test/support/GraphBuilder';
import { modelOf } from '../../../../test/support/runModel';
import type { ValueInfo } from '../../engine/Engine';
import { QbenchError } from '../../errors';
import type { ModelGraph } from '../../model/ModelGraph';
import { describeLayers } from '../../quant/layerInfo';
import type { QTable } from '../../model/QTable';
import { findLayer, fpForward, parseFpForwardArgs, parseFpForwardBlocks, tpuMlirFpType } from './fpForward';
import { applyPlan } from './precisionPlan';

/**
 * x -> conv1 -> relu1 -+-> conv2 -> relu2 -> conv3 -> add(conv3, relu1) -> relu3    (output)
 *                      |                               ^ skip from relu1
 *                      +-> conv4 -> reshape(conv4, shape(conv4))                   (output)
 */
function branchedGraph(opts: { unnamed?: boolean } = {}): ModelGraph {
  const b = new GraphBuilder({ seed: 3, unnamed: opts.unnamed });
  const x = b.input('x', [1, 4, 8, 8]);
  const relu1 = b.node('Relu', [b.conv(x, 4, 3, { name: 'conv1' })], {}, 1, undefined, 'relu1')[0];
  const relu2 = b.node('Relu', [b.conv(relu1, 4, 3, { name: 'conv2' })], {}, 1, undefined, 'relu2')[0];
  const add = b.node('Add', [b.conv(relu2, 4, 3, { name: 'conv3' }), relu1], {}, 1, undefined, 'add')[0];
  b.output(b.node('Relu', [add], {}, 1, undefined, 'relu3')[0]);
  const conv4 = b.conv(relu1, 4, 1, { name: 'conv4' });
  const shape = b.node('Shape', [conv4], {}, 1, [4], 'shape')[0];
  b.output(b.node('Reshape', [conv4, shape], {}, 1, undefined, 'reshape')[0]);
  return modelOf(b.toBytes()).graph;
}

/** Every output float32 except the Shape's int64, as the engine would report them. */
function typesOf(graph: ModelGraph): Map<string, ValueInfo> {
  const types = new Map<string, ValueInfo>();
  for (const node of graph.nodes) {
    for (const output of node.outputs) types.set(output, { name: output, dtype: node.opType === 'Shape' ? 'int64' : 'float32', dims: null });
  }
  return types;
}

describe('fpForward', () => {
  const graph = branchedGraph();

  it('inputs: the named layer and every ancestor, in topological order', () => {
    const result = fpForward(graph, { inputs: ['relu2'] });
    expect(result.layers).toEqual(['conv1', 'relu1', 'conv2', 'relu2']);
    expect(result.precision).toBe('FP32');
    expect(result.assignments[0]).toEqual({ layer: 'conv1', opType: 'Conv', precision: 'FP32', reason: 'at or before relu2 (--fpfwd_inputs)' });
  });

  it('outputs: the named layer and every descendant', () => {
    expect(fpForward(graph, { outputs: ['conv3'] }).layers).toEqual(['conv3', 'add', 'relu3']);
    expect(fpForward(graph, { outputs: ['conv4'] }).layers).toEqual(['conv4', 'shape', 'reshape']);
  });

  it('blocks: descendants of the starts intersected with ancestors of the ends; relu1 reaches add through the skip but is not after conv2', () => {
    expect(fpForward(graph, { blocks: [{ starts: ['conv2'], ends: ['add'] }] }).layers).toEqual(['conv2', 'relu2', 'conv3', 'add']);
  });

  it('blocks with several starts and ends take the union of starts and of ends before intersecting', () => {
    const result = fpForward(graph, { blocks: [{ starts: ['conv2', 'conv4'], ends: ['add', 'reshape'] }] });
    expect(result.layers).toEqual(['conv2', 'relu2', 'conv3', 'add', 'conv4', 'shape', 'reshape']);
  });

  it('unions inputs, outputs and blocks and gives every reason a layer has', () => {
    const result = fpForward(graph, { inputs: ['relu1'], outputs: ['add'], blocks: [{ starts: ['relu1'], ends: ['conv2'] }], fpType: 'FP16' });
    expect(result.assignments.map((a) => [a.layer, a.precision, a.reason])).toEqual([
      ['conv1', 'FP16', 'at or before relu1 (--fpfwd_inputs)'],
      ['relu1', 'FP16', 'at or before relu1 (--fpfwd_inputs); in block relu1:conv2 (--fpfwd_blocks)'],
      ['conv2', 'FP16', 'in block relu1:conv2 (--fpfwd_blocks)'],
      ['add', 'FP16', 'at or after add (--fpfwd_outputs)'],
      ['relu3', 'FP16', 'at or after add (--fpfwd_outputs)'],
    ]);
  });

  it('marks nothing without options', () => {
    expect(fpForward(graph, {})).toEqual({ assignments: [], layers: [], precision: 'FP32' });
  });

  it('accepts TPU-MLIR names: node name, output tensor name, <tensor>_<OpType>', () => {
    const relu2Output = graph.nodes.find((n) => n.name === 'relu2')!.outputs[0];
    expect(findLayer(graph, 'relu2')?.name).toBe('relu2');
    expect(findLayer(graph, relu2Output)?.name).toBe('relu2');
    expect(findLayer(graph, `${relu2Output}_Relu`)?.name).toBe('relu2');
    expect(findLayer(graph, `${relu2Output}_Conv`)).toBeUndefined(); // the op type must be the producer's
    expect(fpForward(graph, { inputs: [`${relu2Output}_Relu`] }).layers).toEqual(['conv1', 'relu1', 'conv2', 'relu2']);
  });

  it('on an unnamed model, TPU-MLIR\'s op names are the node names', () => {
    const unnamed = branchedGraph({ unnamed: true });
    const conv3 = unnamed.nodes[4];
    expect(conv3.name).toBe(`${conv3.outputs[0]}_Conv`);
    expect(fpForward(unnamed, { outputs: [conv3.name] }).layers).toEqual(unnamed.nodes.slice(4, 7).map((n) => n.name));
    expect(fpForward(unnamed, { outputs: [conv3.outputs[0]] }).layers).toEqual(unnamed.nodes.slice(4, 7).map((n) => n.name));
  });

  it('rejects unknown names with one error naming all of them', () => {
    const run = () => fpForward(graph, { inputs: ['relu2', 'nope'], blocks: [{ starts: ['conv2'], ends: ['missing', 'nope'] }] });
    expect(run).toThrow(QbenchError);
    expect(run).toThrow('fp_forward: no layer named "nope", "missing" in the model; give a node name, an output tensor name or TPU-MLIR\'s <tensor>_<OpType>');
  });

  it('rejects an integer fpType', () => {
    expect(() => fpForward(graph, { outputs: ['add'], fpType: 'INT8' })).toThrow('fp_forward sets layers to a float precision (FP32, FP16, BF16); got INT8');
  });
});

describe('applyPlan', () => {
  it('sets the quantizable layers of the plan over the base QTable and leaves the Shape out', () => {
    const graph = branchedGraph();
    const layers = describeLayers(graph, typesOf(graph));
    expect(layers.get('shape')?.quantizable).toBe(false);
    const base: QTable = { defaultPrecision: 'INT8', layers: new Map([['conv1', 'INT16']]) };
    const table = applyPlan(base, fpForward(graph, { outputs: ['conv4'] }), layers);
    expect(table.defaultPrecision).toBe('INT8');
    expect([...table.layers]).toEqual([['conv1', 'INT16'], ['conv4', 'FP32'], ['reshape', 'FP32']]);
    expect([...base.layers]).toEqual([['conv1', 'INT16']]); // the base is not changed
  });
});

describe('parseFpForwardArgs', () => {
  it('reads a pasted fp_forward.py command line and ignores the other arguments', () => {
    const line = 'fp_forward.py yolov5s.mlir --fpfwd_inputs a,b --fpfwd_outputs 474_Conv --fpfwd_blocks "s1,s2:e1 s3:e3" --chip bm1684x --fp_type F16 -o yolo_qtable';
    expect(parseFpForwardArgs(line)).toEqual({
      inputs: ['a', 'b'],
      outputs: ['474_Conv'],
      blocks: [{ starts: ['s1', 's2'], ends: ['e1'] }, { starts: ['s3'], ends: ['e3'] }],
      fpType: 'FP16',
    });
  });

  it('takes an argument list, several block arguments (argparse nargs="+") and --flag=value', () => {
    expect(parseFpForwardArgs(['--fpfwd_blocks', 's1:e1', 's2,s3:e2', '--fpfwd_outputs=c,', '--fp_type=BF16'])).toEqual({
      outputs: ['c'],
      blocks: [{ starts: ['s1'], ends: ['e1'] }, { starts: ['s2', 's3'], ends: ['e2'] }],
      fpType: 'BF16',
    });
  });

  it('fp_type auto takes the chip\'s float type, or the default without a chip', () => {
    expect(parseFpForwardArgs('--fpfwd_outputs c --fp_type auto --chip cv183x').fpType).toBe('BF16');
    expect(parseFpForwardArgs('--fpfwd_outputs c --fp_type auto')).toEqual({ outputs: ['c'] });
    expect(tpuMlirFpType('F32')).toBe('FP32');
    expect(() => tpuMlirFpType('INT8')).toThrow('fp_forward: --fp_type must be auto, F16, F32 or BF16; got "INT8"');
  });

  it('rejects a block without exactly one colon or with an empty side', () => {
    expect(() => parseFpForwardBlocks('s1,s2')).toThrow('fp_forward: block "s1,s2" must be starts:ends with comma-separated layer names, e.g. s1,s2:e1');
    expect(() => parseFpForwardBlocks('a:b:c')).toThrow('block "a:b:c"');
    expect(() => parseFpForwardBlocks('s1:')).toThrow('block "s1:"');
  });

  it('parsed options run on the graph', () => {
    const graph = branchedGraph();
    expect(fpForward(graph, parseFpForwardArgs('--fpfwd_blocks conv2:add')).layers).toEqual(['conv2', 'relu2', 'conv3', 'add']);
  });
});
