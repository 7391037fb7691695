import { EngineError } from '../errors';

/** Turns an engine's load failure into a message a user can act on, naming the file. */
export function sessionError(error: unknown, fileName: string): EngineError {
  if (error instanceof EngineError) return error; // already ours (a wrapped engine said it)
  const detail = ortReason(error);
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

/**
 * Turns a failed inference into one line naming the file, the node and its operator (issue #12):
 * "Non-zero status code returned while running Conv node. Name:'relu_4' Status Message: <path>:71
 * <C++ signature> <check> was false. <reason>" becomes `onnxruntime failed running node "relu_4"
 * (Conv): <reason>`. Callers add the step and the sample (stepError).
 * @example runError(new Error("Non-zero status code returned while running Conv node. Name:'c' Status Message: bad pads"), 'm.onnx').message
 * // 'm.onnx: onnxruntime failed running node "c" (Conv): bad pads'
 */
export function runError(error: unknown, fileName?: string): EngineError {
  if (error instanceof EngineError) return error;
  const detail = ortReason(error);
  const kernel = /^Non-zero status code returned while running (\S+) node\. Name:'([^']*)' Status Message:\s*(.*)$/.exec(detail);
  if (kernel) {
    const [, op, node, reason] = kernel;
    // onnxruntime's NCHWc layout pass replaces a Conv (with the Relu or Add fused into it) by a node
    // named after the tensor it computes: the tensor is what the user's model names.
    const nchwc = /^(.+)_nchwc$/.exec(node);
    const what = nchwc ? `the ${op} computing tensor "${nchwc[1]}" (onnxruntime's node "${node}")` : `node "${node}" (${op})`;
    return new EngineError(`onnxruntime failed running ${what}: ${reason || 'no reason given'}`, fileName);
  }
  return new EngineError(`onnxruntime could not run the model: ${detail}`, fileName);
}

/**
 * onnxruntime's text for a failure as one line a user can read: without colour codes, line
 * breaks, "[ONNXRuntimeError] : 2 : INVALID_ARGUMENT :" prefixes, source locations, the C++
 * signature after them, or the failed check before the reason ("a == b was false.").
 * @example ortReason(new Error('/src/reshape_helper.h:91 onnxruntime::ReshapeHelper::ReshapeHelper(const TensorShape&) a == b was false. The input tensor cannot be reshaped'))
 * // 'The input tensor cannot be reshaped'
 */
export function ortReason(error: unknown): string {
  const raw = error instanceof Error ? error.message : String(error);
  let text = raw
    .replace(/\x1b\[[0-9;]*[A-Za-z]/g, '') // oxlint-disable-line no-control-regex -- ANSI colour codes are what is removed
    .replace(/\s+/g, ' ')
    .replace(/^(?:Error:\s*)+/, '')
    .replace(/\[ONNXRuntimeError\] : \d+ : \w+ : /g, '')
    .trim();
  // A source location, the C++ function it is in (one level of nested parentheses allowed), and
  // the check that failed there ("a == b was false."): onnxruntime's internals; the reason follows.
  text = text.replace(/(?:\/|[A-Za-z]:\\)\S*\.(?:cc|cpp|h|hpp|c):\d+ (?:[^()\s]*::[^()]*\((?:[^()]|\([^()]*\))*\)(?: const)? ?)?(?:(?:(?!\. ).)+? was false\. (?=\S))?/g, '');
  return text.trim() || 'no reason given';
}
