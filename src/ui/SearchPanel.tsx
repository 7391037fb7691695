import { useEffect, useMemo, useState } from 'react';
import { weightBytes } from '../state/queries';
import { diffQTables, resultConfiguration, SEARCH_LABEL } from '../core/search/describe';
import { changedTensors } from '../core/calib/overrideList';
import { qtableFromData } from '../core/model/QTable';
import { naturalCompare } from '../core/naturalSort';
import { SEARCH_METRIC_LABEL } from '../core/search/scoring/searchMetric';
import type { UnitSensitivity } from '../core/search/scoring/sensitivity';
import { applyConfiguration, applyQTable, quantizableLayers } from '../state/actions';
import { appliedOverrides, configurationNote, isCurrentConfiguration } from '../state/figureBasis';
import { useApp } from '../state/store';
import { BestMethods } from './BestMethods';
import { formatDuration } from './format';
import { ParetoChart } from './ParetoChart';
import type { ConfigurationNotes } from './ParetoList';
import { SearchForm } from './SearchForm';
import { useFigureBasis } from './useFigureBasis';

/** The units ranked so far, most sensitive first; a click selects the unit on the graph. */
function RankingTable({ ranking, revision }: { ranking: readonly UnitSensitivity[]; revision: number }) {
  const select = useApp((s) => s.select);
  const info = useApp((s) => s.model?.layers);
  const ops = useMemo(() => new Map((info ?? []).map((l) => [l.name, l.opType])), [info]);
  // revision: a running search's ranking grows in place
  const sorted = useMemo(() => [...ranking].sort((a, b) => b.best.loss - a.best.loss || a.position - b.position), [ranking, revision]);
  return (
    <table className="mini-table ranking" data-testid="sensitivity-table">
      <thead><tr><th>#</th><th>Layer</th><th>Op</th><th>Best method</th><th>Loss</th></tr></thead>
      <tbody>
        {sorted.slice(0, 200).map((r, i) => (
          <tr key={r.head} onClick={() => select(r.head)} data-layer={r.head} title={r.perMethod.map((m) => `${m.method}: ${m.loss.toExponential(3)}`).join('\n')}>
            <td className="num">{i + 1}</td><td>{r.head}{r.layers.length > 1 ? ` +${r.layers.length - 1}` : ''}</td><td>{ops.get(r.head)}</td>
            <td>{r.best.method}</td><td className="num">{r.best.loss.toExponential(3)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Every tensor the calibration has a range for (what one method's whole table covers). */
function useCalibratedTensors(): readonly string[] {
  const calibration = useApp((s) => s.calibration);
  return useMemo(() => (calibration?.table ?? []).map(([tensor]) => tensor), [calibration]);
}

/**
 * The result against the current state: which layers change, both output similarities, and, when
 * the per-tensor methods moved since the search scored it, that applying it puts them back (so the
 * figure it shows is the one the header then shows).
 */
function ResultView() {
  const result = useApp((s) => s.searchResult)!;
  const qtable = useApp((s) => s.qtable);
  const current = useApp((s) => s.outputEvaluation);
  const visitedBasis = useApp((s) => s.visitedBasis);
  const now = useFigureBasis();
  const tensors = useCalibratedTensors();
  const target = useMemo(() => qtableFromData(result.qtable), [result]);
  // natural name order (Add.9 before Add.10), as the layer table and the exports list them
  const changes = useMemo(() => diffQTables(qtable, target, quantizableLayers()).sort((a, b) => naturalCompare(a.layer, b.layer)), [qtable, target]);
  const configuration = useMemo(() => resultConfiguration(result), [result]);
  const scored = configuration ? visitedBasis.get(configuration.id) : undefined;
  const note = configuration ? configurationNote(configuration, scored, now) : null;
  const overridesBack = useMemo(() => (configuration ? changedTensors(now.overrides, appliedOverrides(configuration, scored, now, tensors)).length : 0), [configuration, scored, now, tensors]);
  const resultCos = configuration?.outputCos ?? null;
  const applied = changes.length === 0 && overridesBack === 0;
  const metric = SEARCH_METRIC_LABEL[result.metric.kind];
  return (
    <div className="search-result" data-testid="search-result">
      <p>
        <b>{SEARCH_LABEL[result.kind]}</b>: {metric} <b data-testid="search-result-score">{result.score.toFixed(6)}</b>
        {result.target !== null && <> (target {result.target}{result.met ? ', met' : ', not met'})</>}
        {' '}in {formatDuration(result.elapsedMs)} on {result.sampleCount} samples, {result.runners} worker{result.runners === 1 ? '' : 's'}.
      </p>
      <p className="muted note">
        Baselines: {Object.entries(result.baselines).map(([k, v]) => `${k} ${v.toFixed(6)}`).join(' · ')}.
        {' '}Output cosine: current <b data-testid="compare-current-cos">{current ? current.output.cos.toFixed(6) : '—'}</b>, result <b data-testid="compare-result-cos">{resultCos !== null ? resultCos.toFixed(6) : '—'}</b>.
        {note && <> <span className={note.stale ? 'warn' : ''} data-testid="compare-result-note">{note.text}</span></>}
      </p>
      <div className="row-inline">
        <button className="btn primary small" disabled={applied} onClick={() => void (configuration ? applyConfiguration(configuration) : applyQTable(result.qtable))} data-testid="search-apply">
          {applied ? 'Applied' : `Apply (${changes.length} layer${changes.length === 1 ? '' : 's'} change${overridesBack ? `, ${overridesBack} per-tensor method${overridesBack === 1 ? '' : 's'} back` : ''})`}
        </button>
        <span className="muted note">Undo (Ctrl+Z) goes back.</span>
      </div>
      {result.ranking.length > 0 && <BestMethods ranking={result.ranking} />}
      {changes.length > 0 && (
        <table className="mini-table" data-testid="search-diff">
          <thead><tr><th>Layer</th><th>Now</th><th>Result</th></tr></thead>
          <tbody>{changes.slice(0, 100).map((c) => <tr key={c.layer}><td>{c.layer}</td><td>{c.from}</td><td>{c.to}</td></tr>)}</tbody>
        </table>
      )}
    </div>
  );
}

/** The search tab: the form, what the running search has found, the result, and the Pareto view. */
export function SearchPanel() {
  const run = useApp((s) => s.searchRun);
  const result = useApp((s) => s.searchResult);
  const visited = useApp((s) => s.visited);
  const visitedRevision = useApp((s) => s.visitedRevision);
  const qtable = useApp((s) => s.qtable);
  const current = useApp((s) => s.outputEvaluation);
  const model = useApp((s) => s.model);
  const visitedBasis = useApp((s) => s.visitedBasis);
  const now = useFigureBasis();
  const tensors = useCalibratedTensors();
  const layers = useMemo(() => (model?.layers ?? []).filter((l) => l.quantizable).map((l) => l.name), [model]);
  const notes = useMemo<ConfigurationNotes>(() => {
    // The last scored of those that are the current state (a search may score one QTable twice, with two tables).
    let currentId: number | null = null;
    for (const c of visited) if (isCurrentConfiguration(c, visitedBasis.get(c.id), now, qtable, tensors)) currentId = c.id;
    return { currentId, noteOf: (c) => configurationNote(c, visitedBasis.get(c.id), now) };
  }, [visited, visitedRevision, visitedBasis, now, qtable, tensors]);
  const [currentBytes, setCurrentBytes] = useState<number | null>(null);
  useEffect(() => {
    let live = true;
    if (model && visited.length) void weightBytes(qtable).then((b) => live && setCurrentBytes(b)).catch(() => {});
    return () => { live = false; };
  }, [model, qtable, visited.length, visitedRevision]);
  const ranking = run?.sensitivities.length ? run.sensitivities : result?.ranking ?? [];
  const log = run?.log ?? result?.log ?? [];
  return (
    <div className="search-panel" data-testid="search-panel">
      <SearchForm />
      <div className="search-live">
        {run && !run.stopped && <p className="muted note" data-testid="search-running">{SEARCH_LABEL[run.request.kind]}: {run.sensitivities.length} unit{run.sensitivities.length === 1 ? '' : 's'} ranked so far…</p>}
        {run?.stopped && <p className="muted note" data-testid="search-stopped">{SEARCH_LABEL[run.request.kind]} stopped: {run.sensitivities.length} unit{run.sensitivities.length === 1 ? '' : 's'} ranked before it stopped; the QTable is unchanged.</p>}
        {!run && result && <ResultView />}
        {ranking.length > 0 && <RankingTable ranking={ranking} revision={run?.revision ?? -1} />}
        {ranking.length === 0 && log.length > 0 && <pre className="search-log" data-testid="search-log">{log.slice(-200).join('\n')}</pre>}
        {!run && !result && <p className="muted note">Choose a search and run it. Rankings stream into the graph (heatmap: Sensitivity) as they are measured.</p>}
      </div>
      <ParetoChart points={visited} revision={visitedRevision} current={current && currentBytes !== null ? { weightBytes: currentBytes, outputCos: current.output.cos } : null}
        layers={layers} notes={notes} onApply={(c) => void applyConfiguration(c)} />
    </div>
  );
}

