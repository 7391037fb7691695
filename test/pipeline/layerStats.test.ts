import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nodeImageDecoder } from '../../cli/nodeImageDecoder';
import { ortNodeEngine } from '../../cli/ortNodeEngine';
import { loadDataset } from '../../src/core/io/dataset/loadDataset';
import { onnx } from '../../src/core/io/onnx/protobuf';
import { silentJob } from '../../src/core/jobs/Job';
import { compareTensors, meanMetrics } from '../../src/core/metrics/similarity';
import { ALL_INT8, withPrecision } from '../../src/core/model/QTable';
import { exposeAllTensors } from '../../src/core/engine/tensorTypes';
import { Workbench } from '../../src/core/Workbench';
import { DEMO_PREPROCESS } from '../../src/demo/preprocess';
import { DEMO_IMAGE_DIR, REAL_MODELS } from '../support/models';

/**
 * The probe computes every layer's error inside the graph from three sums. Here the same errors are
 * computed the slow way: every activation of the exported QDQ model and of the float model fetched
 * and compared in JavaScript in float64.
 */
describe('per-layer errors from the probe model', () => {
  it('equal the errors computed from fetched activations (PP-OCRv4 det, demo images)', async () => {
    const engine = ortNodeEngine(2);
    const bench = await Workbench.open(engine, REAL_MODELS.ppocrDet(), 'det.onnx');
    const files = readdirSync(DEMO_IMAGE_DIR).slice(0, 4).map((name) => ({ name, bytes: new Uint8Array(readFileSync(join(DEMO_IMAGE_DIR, name))) }));
    const dataset = await loadDataset(files, bench.graph.inputs, DEMO_PREPROCESS, nodeImageDecoder);
    bench.setDataset(dataset);
    await bench.calibrate(silentJob);
    const qtable = withPrecision(ALL_INT8, 'p2o.Conv.4', 'FP32');
    const probe = await bench.evaluate(qtable, 'layers', silentJob);

    const floatSession = await engine.createSession(onnx.ModelProto.encode(exposeAllTensors(bench.model.proto)).finish());
    const exported = onnx.ModelProto.decode(await bench.exportQdq(qtable));
    for (const layer of ['p2o.Conv.0', 'p2o.GlobalAveragePool.10', 'p2o.Conv.4', 'p2o.Mul.162', 'p2o.Sigmoid.0']) {
      const tensor = probe.layers.find((l) => l.layer === layer)!.tensor;
      // Exposing a tensor stops onnxruntime fusing the nodes around it, which changes what comes after
      // (a little): expose one layer per session so everything up to it runs as exported.
      const withOutput = onnx.ModelProto.create({ ...exported, graph: onnx.GraphProto.create({ ...exported.graph, output: [...exported.graph!.output, ...(exported.graph!.output.some((o) => o.name === tensor) ? [] : [onnx.ValueInfoProto.create({ name: tensor })])] }) });
      const qdqSession = await engine.createSession(onnx.ModelProto.encode(withOutput).finish());
      const perSample = [];
      for (const sample of dataset.samples) {
        const f = await floatSession.run(sample, [tensor]);
        const q = await qdqSession.run(sample, [tensor]);
        perSample.push(compareTensors(f[tensor].data as Float32Array, q[tensor].data as Float32Array));
      }
      const slow = meanMetrics(perSample);
      const fast = probe.layers.find((l) => l.layer === layer)!;
      expect(fast.cos, layer).toBeCloseTo(slow.cos, 5);
      expect(fast.sqnr, layer).toBeCloseTo(slow.sqnr, 2);
      expect(fast.mse / slow.mse, layer).toBeCloseTo(1, 4);
    }
  });
});
