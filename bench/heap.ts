/**
 * Where the page's memory goes during issue #15's 30-sample what-if on the demo: the workers' heap
 * snapshots after the what-if benchmark's four edits, each worker's bytes grouped by what holds them
 * (the kept boundary of the heatmap's probe, the samples, onnxruntime's heap...).
 *   npm run bench -- --sections=heap --browser-only
 * Opt-in (not in the default sections): a snapshot of each worker takes a while and tens of MB.
 * Chromium runs with a DevTools port (BENCH_DEVTOOLS_PORT, 9333) so the snapshots can be taken from
 * the workers themselves, which Playwright's CDP sessions do not reach.
 */
import { chromium } from '@playwright/test';
import type { AppState } from '../src/state/store';
import { calibratedAndIdle } from './pageWait';
import { demoImages, editPrecision, pageMemoryMb } from './whatIf';

const log = (message: string) => process.stderr.write(`bench: ${message}\n`);
const SAMPLES = 30;
/** Smallest node counted in the groups; the rest is summed as "smaller". */
const GROUPED_BYTES = 100_000;

interface Cdp {
  send(method: string, params?: object, sessionId?: string): Promise<{ result?: Record<string, unknown>; error?: unknown }>;
  on(listener: (message: { method?: string; params?: Record<string, unknown>; sessionId?: string }) => void): () => void;
  close(): void;
}

/** The browser's DevTools endpoint, flat sessions (one socket, a sessionId per target). */
async function connect(port: number): Promise<Cdp> {
  const { webSocketDebuggerUrl } = (await (await fetch(`http://localhost:${port}/json/version`)).json()) as { webSocketDebuggerUrl: string };
  // Node 20 has WebSocket behind --experimental-websocket (the bench script passes it).
  const socket = new WebSocket(webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    socket.onopen = resolve;
    socket.onerror = reject;
  });
  let id = 0;
  const pending = new Map<number, (value: { result?: Record<string, unknown>; error?: unknown }) => void>();
  const listeners = new Set<(message: { method?: string; params?: Record<string, unknown>; sessionId?: string }) => void>();
  socket.onmessage = (event: MessageEvent) => {
    const message = JSON.parse(String(event.data));
    const resolve = message.id !== undefined ? pending.get(message.id) : undefined;
    if (resolve) {
      pending.delete(message.id);
      resolve(message);
    } else for (const listener of listeners) listener(message);
  };
  return {
    send: (method, params = {}, sessionId) => new Promise((resolve) => {
      pending.set(++id, resolve);
      socket.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
    }),
    on(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close: () => socket.close(),
  };
}

interface HeapSnapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]]; edge_fields: string[]; edge_types: [string[]] } };
  nodes: number[];
  edges: number[];
  strings: string[];
}

/**
 * A worker's snapshot summed by what holds each node of GROUPED_BYTES or more: its type and name,
 * then the first `depth` retainers (edge name and holder), numbers and indices blanked so that one
 * sample's or one tensor's copies fall in one group.
 */
export function heapGroups(snap: HeapSnapshot, depth = 10): { totalMb: number; groups: { mb: number; count: number; held: string }[] } {
  const meta = snap.snapshot.meta;
  const NF = meta.node_fields.length;
  const EF = meta.edge_fields.length;
  const [iType, iName, iSize, iEdges] = ['type', 'name', 'self_size', 'edge_count'].map((f) => meta.node_fields.indexOf(f));
  const [eType, eName, eTo] = ['type', 'name_or_index', 'to_node'].map((f) => meta.edge_fields.indexOf(f));
  const { nodes, edges, strings } = snap;
  const count = nodes.length / NF;
  const label = (i: number) => `${meta.node_types[0][nodes[i * NF + iType]]}:${strings[nodes[i * NF + iName]].replace(/@\d+/g, '').replace(/^system \/ /, '').slice(0, 40)}`;
  const retainer = new Map<number, [number, string]>(); // the first strong retainer of each node
  let total = 0;
  for (let i = 0, e = 0; i < count; i++) {
    total += nodes[i * NF + iSize];
    for (let k = 0; k < nodes[i * NF + iEdges]; k++, e += EF) {
      const type = meta.edge_types[0][edges[e + eType]];
      if (type === 'weak') continue;
      const to = edges[e + eTo] / NF;
      if (retainer.has(to)) continue;
      const holder = strings[nodes[i * NF + iName]];
      if (holder === '(GC roots)' || holder === '(Internalized strings)') continue;
      const name = type === 'element' || type === 'hidden' ? '[]' : String(strings[edges[e + eName]]).replace(/^\d+$/, '#');
      retainer.set(to, [i, name]);
    }
  }
  const groups = new Map<string, { bytes: number; count: number }>();
  for (let i = 0; i < count; i++) {
    const size = nodes[i * NF + iSize];
    const chain = [label(i)];
    if (size >= GROUPED_BYTES) {
      for (let at = i, d = 0; d < depth; d++) {
        const up = retainer.get(at);
        if (!up) break;
        chain.push(`${up[1]} <- ${label(up[0])}`);
        at = up[0];
      }
    }
    const key = size >= GROUPED_BYTES ? chain.join(' | ') : 'smaller nodes';
    const group = groups.get(key) ?? { bytes: 0, count: 0 };
    group.bytes += size;
    group.count++;
    groups.set(key, group);
  }
  return {
    totalMb: Math.round(total / 1e5) / 10,
    groups: [...groups].filter(([, g]) => g.bytes >= 1e6).sort((a, b) => b[1].bytes - a[1].bytes)
      .map(([held, g]) => ({ mb: Math.round(g.bytes / 1e5) / 10, count: g.count, held })),
  };
}

export async function benchHeapBrowser(baseUrl: string) {
  const port = Number(process.env.BENCH_DEVTOOLS_PORT ?? 9333);
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--enable-blink-features=ForceEagerMeasureMemory', `--remote-debugging-port=${port}`],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    log(`chromium heap: the demo at ${SAMPLES} samples, four edits`);
    await page.goto(`${baseUrl}/?session=0&evaluation_samples=${SAMPLES}`);
    await calibratedAndIdle(page);
    await page.getByTestId('pick-data').setInputFiles(demoImages(SAMPLES));
    await page.waitForFunction((n) => (globalThis as unknown as { qbenchState: () => AppState }).qbenchState().calibration?.evaluationSampleCount === n, SAMPLES, { timeout: 600_000 });
    await calibratedAndIdle(page);
    for (const [layer, precision] of [['p2o.Conv.17', 'FP32'], ['p2o.Conv.17', 'FP16'], ['p2o.Conv.17', 'INT8'], ['p2o.Conv.40', 'FP32']] as const) await editPrecision(page, layer, precision);
    const measured = await pageMemoryMb(page);

    const cdp = await connect(port);
    try {
      const { targetInfos } = (await cdp.send('Target.getTargets')).result as { targetInfos: { targetId: string; type: string; url: string }[] };
      const target = targetInfos.find((t) => t.type === 'page' && t.url.startsWith(baseUrl))!;
      const workers: { sessionId: string; name: string }[] = [];
      // Workers attach to their page, and the search workers to the compute worker that starts them.
      const stop = cdp.on((m) => {
        const info = m.params?.targetInfo as { type: string; url: string } | undefined;
        if (m.method !== 'Target.attachedToTarget' || info?.type !== 'worker') return;
        const sessionId = String(m.params!.sessionId);
        workers.push({ sessionId, name: info.url.split('/').pop()!.replace(/-[\w-]+\.js$/, '') });
        void cdp.send('Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: false, flatten: true }, sessionId);
      });
      const pageSession = String((await cdp.send('Target.attachToTarget', { targetId: target.targetId, flatten: true })).result!.sessionId);
      await cdp.send('Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: false, flatten: true }, pageSession);
      await new Promise((resolve) => setTimeout(resolve, 2000));
      stop();
      const byWorker: Record<string, ReturnType<typeof heapGroups>> = {};
      for (const worker of workers.filter((w) => !w.name.startsWith('layout'))) {
        log(`chromium heap: snapshot of ${worker.name}`);
        const chunks: string[] = [];
        const off = cdp.on((m) => {
          if (m.sessionId === worker.sessionId && m.method === 'HeapProfiler.addHeapSnapshotChunk') chunks.push(String(m.params!.chunk));
        });
        await cdp.send('HeapProfiler.enable', {}, worker.sessionId);
        await cdp.send('HeapProfiler.takeHeapSnapshot', { reportProgress: false }, worker.sessionId);
        off();
        byWorker[worker.name] = heapGroups(JSON.parse(chunks.join('')) as HeapSnapshot);
      }
      return { samples: SAMPLES, measuredMb: measured, snapshots: byWorker };
    } finally {
      cdp.close();
    }
  } finally {
    await browser.close();
  }
}
