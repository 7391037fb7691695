import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../limits';
import { refuseLongLoops } from './loopLimits';
import { onnx } from './protobuf';
import { loopModel } from '../../../../test/support/loopModel';

const FLOAT = onnx.TensorProto.DataType.FLOAT;
const info = (name: string, dims: (number | string)[]) => onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType: FLOAT, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } } });

/** A Scan over `x` [steps, 4] along axis 0, summing its rows. */
function scanModel(steps: number | string): onnx.IModelProto {
  const body = onnx.GraphProto.create({
    name: 'body',
    node: [onnx.NodeProto.create({ name: 'acc', opType: 'Add', input: ['s_in', 'row'], output: ['s_out'] }), onnx.NodeProto.create({ name: 'copy', opType: 'Identity', input: ['s_out'], output: ['row_out'] })],
    input: [info('s_in', [4]), info('row', [4])],
    output: [info('s_out', [4]), info('row_out', [4])],
  });
  return onnx.ModelProto.create({
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'scan', input: [info('init', [4]), info('x', [steps, 4])], output: [info('sum', [4]), info('rows', [steps, 4])],
      node: [onnx.NodeProto.create({ name: 'the_scan', opType: 'Scan', input: ['init', 'x'], output: ['sum', 'rows'], attribute: [
        { name: 'body', type: onnx.AttributeProto.AttributeType.GRAPH, g: body },
        { name: 'num_scan_inputs', type: onnx.AttributeProto.AttributeType.INT, i: 1 },
      ] })],
    },
  });
}

describe('Loop and Scan lengths held to the iteration limit before anything runs (issue #12)', () => {
  it('a constant Loop trip count over the limit is refused with the node and the flag; under it, nothing is said', () => {
    expect(() => refuseLongLoops(onnx.ModelProto.decode(loopModel(2n ** 40n)), 'l.onnx', DEFAULT_LIMITS)).toThrow(/^l\.onnx: Loop node "the_loop" \(the main graph\) declares a trip count of 1099511627776 .*--max_loop_trips N/);
    expect(() => refuseLongLoops(onnx.ModelProto.decode(loopModel(1000n)), 'l.onnx', DEFAULT_LIMITS)).not.toThrow();
    // Neither a trip count nor a condition: ONNX says it runs forever (a fuzz case renamed the count away).
    const endless = onnx.ModelProto.decode(loopModel(3n));
    endless.graph!.node.find((n) => n.opType === 'Loop')!.input[0] = '';
    expect(() => refuseLongLoops(endless, 'l.onnx', DEFAULT_LIMITS)).toThrow(/^l\.onnx: Loop node "the_loop" \(the main graph\) has neither a trip count nor a condition input: it would run forever/);
    // Computed at run time: the time limit's job, not this check's.
    expect(() => refuseLongLoops(onnx.ModelProto.decode(loopModel(2n ** 40n, { computed: true })), 'l.onnx', DEFAULT_LIMITS)).not.toThrow();
  });

  it('a Scan over a declared sequence longer than the limit is refused; a symbolic length is left to the time limit', () => {
    expect(() => refuseLongLoops(scanModel(2_000_000), 's.onnx', DEFAULT_LIMITS)).toThrow(/^s\.onnx: Scan node "the_scan" \(the main graph\) runs over a sequence of 2000000 steps \(input "x"\)/);
    expect(() => refuseLongLoops(scanModel(2_000_000), 's.onnx', { loopTrips: 3_000_000 })).not.toThrow();
    expect(() => refuseLongLoops(scanModel('T'), 's.onnx', DEFAULT_LIMITS)).not.toThrow();
  });
});
