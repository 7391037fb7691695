// A fuzz host (worker thread or child process): registers tsx, as cli/searchWorker.js does, and
// runs the TypeScript host, which takes cases from its parent and answers with their outcomes.
import { register } from 'tsx/esm/api';

register();
await import('./host.ts');
