// `npm run corpus`: every qbench command on every real model of the corpus (test/corpus), then
// the README's table (markdown) and the figures (JSON) on stdout. `-- --models a,b` runs some.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { availableCorpusModels } from '../test/corpus/corpusModels';
import { corpusTable, runCorpusModel, type CorpusRow } from '../test/corpus/runCorpus';

const only = process.argv.find((a) => a.startsWith('--models='))?.slice('--models='.length).split(',');
const samples = Number(process.argv.find((a) => a.startsWith('--samples='))?.slice('--samples='.length) ?? 3);
const methods = process.argv.find((a) => a.startsWith('--methods='))?.slice('--methods='.length) ?? 'MAX,KL';
const dir = mkdtempSync(join(tmpdir(), 'qbench-corpus-'));
const rows: CorpusRow[] = [];
const started = performance.now();
for (const model of availableCorpusModels().filter((m) => !only || only.includes(m.id))) {
  const t = performance.now();
  const row = await runCorpusModel(model, join(dir, model.id), samples, methods);
  rows.push(row);
  process.stderr.write(`${model.id}: ${((performance.now() - t) / 1000).toFixed(1)} s, ${row.outcomes.map((o) => `${o.command}=${o.status}`).join(' ')}\n`);
  for (const o of row.outcomes) if (o.status !== 'ok') process.stderr.write(`   ${o.command}: ${o.stderr.trim().split('\n').slice(0, 3).join(' / ')}\n`);
}
process.stdout.write(`${corpusTable(rows)}\n\n`);
process.stdout.write(`${JSON.stringify({ samples, seconds: Math.round((performance.now() - started) / 1000), rows: rows.map((r) => ({ model: r.model.id, opset: r.opset, layers: r.layers, quantizable: r.quantizable, int8Cos: r.int8Cos, exported: r.exported, outcomes: r.outcomes.map((o) => ({ command: o.command, status: o.status, summary: o.summary, seconds: +(o.elapsedMs / 1000).toFixed(1) })) })) })}\n`);
