import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeImageDecoder } from '../../cli/nodeImageDecoder';
import { nodeSearchPool } from '../../cli/nodeSearchPool';
import { ortNodeEngine } from '../../cli/ortNodeEngine';
import { loadDataset } from '../../src/core/io/dataset/loadDataset';
import { silentJob } from '../../src/core/jobs/Job';
import { ALL_INT8, qtableFromData, qtableToData } from '../../src/core/model/QTable';
import { SEARCH_DEFAULTS, type SearchRequest } from '../../src/core/search/SearchRequest';
import { Workbench } from '../../src/core/Workbench';
import { DEMO_PREPROCESS } from '../../src/demo/preprocess';
import { DEMO_IMAGE_DIR, REAL_MODELS } from '../support/models';

/**
 * Issue #4 on a real pre-trained model (PP-OCRv4's text detector, 2 demo images, a pool of two
 * worker threads): each search that changes precisions gives a QTable whose output cosine, measured
 * by the ordinary evaluation, beats the all-INT8 model's.
 */
describe('searches on PP-OCRv4 det', () => {
  let bench: Workbench;
  let int8: number;
  const pools: { close(): Promise<void> }[] = [];

  beforeAll(async () => {
    bench = await Workbench.open(ortNodeEngine(1), REAL_MODELS.ppocrDet(), 'det.onnx');
    const files = readdirSync(DEMO_IMAGE_DIR).slice(0, 2).map((name) => ({ name, bytes: new Uint8Array(readFileSync(join(DEMO_IMAGE_DIR, name))) }));
    bench.setDataset(await loadDataset(files, bench.graph.inputs, DEMO_PREPROCESS, nodeImageDecoder));
    await bench.calibrate(silentJob);
    bench.setSearchPools(async (ctx) => {
      const pool = await nodeSearchPool(ctx, 2);
      pools.push(pool);
      return pool;
    });
    int8 = (await bench.evaluate(ALL_INT8, 'outputs', silentJob)).output.cos;
  }, 120_000);

  afterAll(async () => {
    await Promise.all(pools.map((p) => p.close()));
    await bench.dispose();
  });

  const base = qtableToData(ALL_INT8);
  const requests: SearchRequest[] = [
    { kind: 'sensitive', metric: { kind: 'rescaled_cos', compare: [] }, base, options: { ...SEARCH_DEFAULTS.sensitive, methods: ['max', 'percentile9999'], maxFloatLayers: 3, expected: 0.999 } },
    { kind: 'qtable', metric: { kind: 'rescaled_cos', compare: [] }, base, options: { ...SEARCH_DEFAULTS.qtable, maxFloatLayers: 3, expected: 0.999 } },
    { kind: 'run_qtable', metric: { kind: 'rescaled_cos', compare: [] }, base, options: { ...SEARCH_DEFAULTS.run_qtable, minLayerCos: 0.999, expected: 0.999 } },
    { kind: 'bisection', metric: { kind: 'mae', compare: [] }, base, options: SEARCH_DEFAULTS.bisection },
    { kind: 'fp_forward', metric: { kind: 'cos', compare: [] }, base, options: { ...SEARCH_DEFAULTS.fp_forward, outputs: ['p2o.Conv.58'] } },
  ];

  for (const request of requests) {
    it(`${request.kind}: its QTable beats all INT8`, async () => {
      const result = await bench.search(request, silentJob, () => {});
      const qtable = qtableFromData(result.qtable);
      expect(qtable.layers.size + (qtable.defaultPrecision !== 'INT8' ? 1 : 0)).toBeGreaterThan(0);
      const cos = (await bench.evaluate(qtable, 'outputs', silentJob)).output.cos;
      expect(cos).toBeGreaterThan(int8); // all INT8: 0.915 on the first 4 images when written
    }, 300_000);
  }
});
