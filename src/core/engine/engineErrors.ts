import { EngineError } from '../errors';

/** Turns an engine's load failure into a message a user can act on, naming the file. */
export function sessionError(error: unknown, fileName: string): EngineError {
  const raw = error instanceof Error ? error.message : String(error);
  const detail = raw.replace(/^Error:\s*/, '').replace(/\s+/g, ' ').trim();
  const missingKernel = /Could not find an implementation for (\S+)\((\d+)\) node with name '([^']*)'/.exec(detail);
  if (missingKernel) {
    const [, op, version, node] = missingKernel;
    return new EngineError(`onnxruntime cannot run operator ${op} (opset ${version}) of node "${node}"; qbench needs every operator to run on the selected engine`, fileName);
  }
  const unknownOp = /No Op registered for (\S+) with domain_version of (\d+)/.exec(detail);
  if (unknownOp) {
    return new EngineError(`onnxruntime does not know operator ${unknownOp[1]} (opset ${unknownOp[2]}); qbench needs every operator to run on the selected engine`, fileName);
  }
  return new EngineError(`onnxruntime could not load the model: ${detail}`, fileName);
}
