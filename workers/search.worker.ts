import * as Comlink from 'comlink';
import { LocalRunnerPort, type RunnerPort } from '../src/core/search/SearchPool';
import { SearchRunner, type TableChoice } from '../src/core/search/SearchRunner';
import { searchContextFromData, type SearchContextData } from '../src/core/search/serialize';
import type { LocalScore } from '../src/core/search/localErrors';
import type { SensitivityOptions, UnitSensitivity } from '../src/core/search/sensitivity';
import type { QuantUnit } from '../src/core/search/units';
import type { SearchMetric } from '../src/core/search/searchMetric';
import type { PartScores } from '../src/core/search/scorePart';
import type { QTableData } from '../src/core/quant/QTable';
import type { ErrorMetrics } from '../src/core/metrics/similarity';
import { ortWebWasmEngine } from './ortWebEngine';

/**
 * A pool worker of the page: one SearchRunner on its own onnxruntime-web (WASM, one thread), fed
 * its context once per search session by the compute worker (workers/searchPool.ts).
 */
class BrowserSearchWorker implements RunnerPort {
  private port?: LocalRunnerPort;
  private readonly engine = ortWebWasmEngine(1);

  load(data: SearchContextData): void {
    this.port = new LocalRunnerPort(new SearchRunner(searchContextFromData(data), this.engine));
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

Comlink.expose(new BrowserSearchWorker());
export type { BrowserSearchWorker };
