import { useEffect, useRef, type KeyboardEvent } from 'react';
import { loadCapabilities, startDemo } from '../state/actions';
import { startPage } from '../state/session/restore';
import { useApp } from '../state/store';
import { DataPanel } from './DataPanel';
import { ConfirmDialog } from './dialogs/ConfirmDialog';
import { onPageKey } from './dialogs/shortcuts';
import { ShortcutsDialog } from './dialogs/ShortcutsDialog';
import { ExportPanel } from './ExportPanel';
import { RecentSessionList, RecentSessionsButton } from './RecentSessions';
import { PickFiles, WindowDrop, DATA_ACCEPT } from './FileDrop';
import { GraphPanel } from './GraphPanel';
import { Header } from './Header';
import { Inspector } from './Inspector';
import { JobBar } from './JobBar';
import { LayerTable } from './LayerTable';
import { panelLimits, usePanelSizes } from './layout/panelSizes';
import { Splitter } from './layout/Splitter';
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
        <PickFiles label="Open model" accept=".onnx,.tflite,.circle,.qbench" testId="pick-model-empty" className="btn primary" />
        <PickFiles label="Add data" accept={DATA_ACCEPT} multiple testId="pick-data-empty" />
        <button className="btn" onClick={() => void startDemo()}>Load the demo (PP-OCRv4 detector)</button>
      </div>
      {!loading && <RecentSessionList heading="Recent sessions" />}
    </div>
  );
}

const TABS = [['layers', 'Layers'], ['data', 'Data & calibration'], ['search', 'Search'], ['export', 'Export'], ['outputs', 'Outputs']] as const;

/** The bottom panel's tabs: a WAI-ARIA tablist (arrows, Home and End move between tabs). */
function BottomPanel() {
  const tab = useApp((s) => s.bottomTab);
  const setTab = useApp((s) => s.setBottomTab);
  const list = useRef<HTMLDivElement>(null);
  const onKey = (e: KeyboardEvent<HTMLDivElement>) => {
    const i = TABS.findIndex(([id]) => id === tab);
    const next = e.key === 'ArrowRight' ? (i + 1) % TABS.length : e.key === 'ArrowLeft' ? (i - 1 + TABS.length) % TABS.length : e.key === 'Home' ? 0 : e.key === 'End' ? TABS.length - 1 : -1;
    if (next < 0) return;
    e.preventDefault();
    setTab(TABS[next][0]);
    list.current?.querySelector<HTMLElement>(`#tab-${TABS[next][0]}`)?.focus();
  };
  return (
    <section className="bottom">
      <div className="tabs-row">
        <div className="tabs" role="tablist" aria-label="Panels" ref={list} onKeyDown={onKey}>
          {TABS.map(([id, label]) => (
            <button key={id} id={`tab-${id}`} role="tab" aria-selected={tab === id} aria-controls="tab-panel" tabIndex={tab === id ? 0 : -1}
              className={`tab${tab === id ? ' on' : ''}`} onClick={() => setTab(id)} data-testid={`tab-${id}`}>{label}</button>
          ))}
        </div>
        <RecentSessionsButton />
      </div>
      <div className="tab-body" id="tab-panel" role="tabpanel" aria-labelledby={`tab-${tab}`}>
        {tab === 'layers' ? <LayerTable /> : tab === 'data' ? <DataPanel /> : tab === 'search' ? <SearchPanel /> : tab === 'outputs' ? <OutputViewer /> : <ExportPanel />}
      </div>
    </section>
  );
}

let started = false; // StrictMode runs effects twice in development; the demo loads once

export function App() {
  const hasModel = useApp((s) => s.model !== null);
  const [sizes, resize] = usePanelSizes();
  const limits = panelLimits();
  useEffect(() => {
    if (!started) {
      started = true;
      void loadCapabilities();
      const query = new URLSearchParams(location.search);
      const evaluationSamples = Number(query.get('evaluation_samples'));
      // The saved session comes back (session/restore.ts); the demo only when there is none.
      void startPage(query, () => startDemo(Number.isInteger(evaluationSamples) && evaluationSamples > 0 ? evaluationSamples : undefined));
    }
    window.addEventListener('keydown', onPageKey);
    return () => window.removeEventListener('keydown', onPageKey);
  }, []);
  // The splitters' sizes go to the grid as CSS variables (styles.css: .app and .main).
  const style = { '--bottom-size': `${sizes.bottom}px`, '--inspector-size': `${sizes.inspector}px` } as React.CSSProperties;
  return (
    <div className={`app${hasModel ? '' : ' no-model'}`} style={style}>
      <Header />
      <ModelNotes />
      <EvaluationWarnings />
      <Messages />
      <main className="main">
        <div className="center">
          {hasModel ? <GraphPanel /> : <EmptyState />}
          <JobBar />
        </div>
        {hasModel && <Splitter orientation="vertical" className="inspector-splitter" value={sizes.inspector} min={limits.inspector[0]} max={limits.inspector[1]} direction={-1}
          onChange={(inspector) => resize({ inspector })} label="Inspector width" testId="inspector-splitter" />}
        <Inspector />
      </main>
      {hasModel && (
        <div className="bottom-area">
          <Splitter orientation="horizontal" className="bottom-splitter" value={sizes.bottom} min={limits.bottom[0]} max={limits.bottom[1]} direction={-1}
            onChange={(bottom) => resize({ bottom })} label="Bottom panel height" testId="bottom-splitter" />
          <BottomPanel />
        </div>
      )}
      <WindowDrop />
      <ConfirmDialog />
      <ShortcutsDialog />
    </div>
  );
}
