import { useEffect } from 'react';
import { loadCapabilities, redo, startDemo, undo } from '../state/actions';
import { startPage } from '../state/session/restore';
import { useApp } from '../state/store';
import { DataPanel } from './DataPanel';
import { ExportPanel } from './ExportPanel';
import { PickFiles, WindowDrop, DATA_ACCEPT } from './FileDrop';
import { GraphPanel } from './GraphPanel';
import { Header } from './Header';
import { Inspector } from './Inspector';
import { JobBar } from './JobBar';
import { LayerTable } from './LayerTable';
import { Messages } from './Messages';
import { ModelNotes } from './ModelNotes';
import { EvaluationWarnings } from './EvaluationWarnings';
import { SearchPanel } from './SearchPanel';
import { OutputViewer } from './outputs/OutputViewer';

function EmptyState() {
  const loading = useApp((s) => s.modelLoading);
  return (
    <div className="empty-state" data-testid="empty-state">
      <h2>{loading ? `Opening ${loading}…` : 'Drop a model to start'}</h2>
      <p>Drop an <b>.onnx</b> model and calibration data (<b>.npy</b>, <b>.npz</b>, ONE <b>.h5</b> or images) anywhere in this window.</p>
      <div className="row">
        <PickFiles label="Open model" accept=".onnx" testId="pick-model-empty" className="btn primary" />
        <PickFiles label="Add data" accept={DATA_ACCEPT} multiple testId="pick-data-empty" />
        <button className="btn" onClick={() => void startDemo()}>Load the demo (PP-OCRv4 detector)</button>
      </div>
    </div>
  );
}

function BottomPanel() {
  const tab = useApp((s) => s.bottomTab);
  const setTab = useApp((s) => s.setBottomTab);
  const tabs = [['layers', 'Layers'], ['data', 'Data & calibration'], ['search', 'Search'], ['export', 'Export'], ['outputs', 'Outputs']] as const;
  return (
    <section className="bottom">
      <nav className="tabs">
        {tabs.map(([id, label]) => <button key={id} className={`tab${tab === id ? ' on' : ''}`} onClick={() => setTab(id)} data-testid={`tab-${id}`}>{label}</button>)}
      </nav>
      <div className="tab-body">
        {tab === 'layers' ? <LayerTable /> : tab === 'data' ? <DataPanel /> : tab === 'search' ? <SearchPanel /> : tab === 'outputs' ? <OutputViewer /> : <ExportPanel />}
      </div>
    </section>
  );
}

let started = false; // StrictMode runs effects twice in development; the demo loads once

export function App() {
  const hasModel = useApp((s) => s.model !== null);
  useEffect(() => {
    if (!started) {
      started = true;
      void loadCapabilities();
      const query = new URLSearchParams(location.search);
      const evaluationSamples = Number(query.get('evaluation_samples'));
      // The saved session comes back (session/restore.ts); the demo only when there is none.
      void startPage(query, () => startDemo(Number.isInteger(evaluationSamples) && evaluationSamples > 0 ? evaluationSamples : undefined));
    }
    const keys = (e: KeyboardEvent) => {
      if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'z' && !(e.target instanceof HTMLInputElement)) {
        e.preventDefault();
        if (e.shiftKey) redo(); else undo();
      }
    };
    window.addEventListener('keydown', keys);
    return () => window.removeEventListener('keydown', keys);
  }, []);
  return (
    <div className={`app${hasModel ? '' : ' no-model'}`}>
      <Header />
      <ModelNotes />
      <EvaluationWarnings />
      <main className="main">
        <div className="center">
          {hasModel ? <GraphPanel /> : <EmptyState />}
          <JobBar />
        </div>
        <Inspector />
      </main>
      {hasModel && <BottomPanel />}
      <Messages />
      <WindowDrop />
    </div>
  );
}
