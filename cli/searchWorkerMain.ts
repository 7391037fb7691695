import { parentPort } from 'node:worker_threads';
import * as Comlink from 'comlink';
import { nodeEndpoint } from './comlinkNodeAdapter';
import { LocalRunnerPort, type RunnerPort } from '../src/core/search/SearchPool';
import { SearchRunner } from '../src/core/search/SearchRunner';
import { searchContextFromData, type SearchContextData } from '../src/core/search/serialize';
import type { SensitivityOptions, UnitSensitivity } from '../src/core/search/sensitivity';
import type { QuantUnit } from '../src/core/search/units';
import type { SearchMetric } from '../src/core/search/searchMetric';
import type { PartScores } from '../src/core/search/scorePart';
import type { TableChoice } from '../src/core/search/SearchRunner';
import type { QTableData } from '../src/core/quant/QTable';
import type { ErrorMetrics } from '../src/core/metrics/similarity';
import type { LocalScore } from '../src/core/search/localErrors';
import { ortNodeEngine } from './ortNodeEngine';

/** One runner per worker thread, on onnxruntime-node with one intra-op thread (the pool uses the other cores). */
class NodeSearchWorker implements RunnerPort {
  private port?: LocalRunnerPort;

  load(data: SearchContextData): void {
    this.port = new LocalRunnerPort(new SearchRunner(searchContextFromData(data), ortNodeEngine(1)));
  }

  rankChunk(units: readonly QuantUnit[], options: SensitivityOptions, jobId: string, onResult: (result: UnitSensitivity) => void): Promise<void> {
    return this.require().rankChunk(units, options, jobId, onResult);
  }

  scoreQTables(qtables: readonly QTableData[], table: TableChoice, metric: SearchMetric, sampleIndices: readonly number[], jobId: string): Promise<PartScores[]> {
    return this.require().scoreQTables(qtables, table, metric, sampleIndices, jobId);
  }

  localChunk(units: readonly QuantUnit[], jobId: string, onResult: (score: LocalScore) => void): Promise<void> {
    return this.require().localChunk(units, jobId, onResult);
  }

  outputErrors(qtable: QTableData, sampleIndices: readonly number[], jobId: string): Promise<Record<string, ErrorMetrics>[]> {
    return this.require().outputErrors(qtable, sampleIndices, jobId);
  }

  cancel(jobId: string): void {
    this.port?.cancel(jobId);
  }

  private require(): LocalRunnerPort {
    if (!this.port) throw new Error('the search worker has no context: load() first');
    return this.port;
  }
}

Comlink.expose(new NodeSearchWorker(), nodeEndpoint(parentPort!));
