// Regenerates src/core/io/onnx/generated/ from src/core/io/onnx/onnx.proto with protobufjs-cli.
// Decoded messages are full class instances (defaults on the prototype, repeated fields as arrays),
// but pbts types a class's message-valued fields as the all-optional `$Properties` shapes. We
// tighten those fields to the classes so core code reads decoded models without casts.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

const dir = 'src/core/io/onnx';
const bin = (name) => `node_modules/.bin/${name}`;
execFileSync(bin('pbjs'), ['-t', 'static-module', '-w', 'es6', '--no-verify', '--no-convert', '--no-delimited',
  '-o', `${dir}/generated/onnx.js`, `${dir}/onnx.proto`], { stdio: 'inherit' });
execFileSync(bin('pbts'), ['-o', `${dir}/generated/onnx.d.ts`, `${dir}/generated/onnx.js`], { stdio: 'inherit' });

const lines = readFileSync(`${dir}/generated/onnx.d.ts`, 'utf8').split('\n');
let classDepth = -1;
let depth = 0;
const out = lines.map((line) => {
  if (/^\s*class \w+ \{/.test(line)) classDepth = depth;
  const inClassBody = classDepth >= 0 && depth === classDepth + 1;
  let result = line;
  if (inClassBody && /^\s+\w+\??: /.test(line) && !/\(/.test(line.split(':')[0])) {
    result = line.replace(/(onnx\.(?:\w+\.)*\w+)\.\$Properties/g, '$1');
  }
  depth += (line.match(/\{/g) ?? []).length - (line.match(/\}/g) ?? []).length;
  if (classDepth >= 0 && depth <= classDepth) classDepth = -1;
  return result;
});
writeFileSync(`${dir}/generated/onnx.d.ts`, out.join('\n'));
