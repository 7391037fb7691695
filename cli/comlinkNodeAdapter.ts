// comlink ships its Node adapter as an .mjs with a .d.ts of another name; this gives it its type.
import type { Endpoint } from 'comlink';
// @ts-expect-error: the adapter's declaration file is node-adapter.d.ts, which TypeScript does not pair with the .mjs
import adapter from 'comlink/dist/esm/node-adapter.mjs';

import type { MessagePort, Worker } from 'node:worker_threads';

export const nodeEndpoint = adapter as (endpoint: Worker | MessagePort) => Endpoint;
