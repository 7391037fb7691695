/**
 * Errors that reach the user. Each names the file (or input) it is about and says what was
 * expected and what was found, so the page and the CLI can print `message` as it is.
 */
export class QbenchError extends Error {
  /** The file the problem is in, when there is one (a model, a sample, a table). */
  readonly fileName?: string;
  constructor(message: string, fileName?: string) {
    super(fileName ? `${fileName}: ${message}` : message);
    this.name = 'QbenchError';
    this.fileName = fileName;
  }
}

/** The bytes are not the format the file claims to be, or are damaged. */
export class FormatError extends QbenchError {
  constructor(fileName: string, message: string) {
    super(message, fileName);
    this.name = 'FormatError';
  }
}

/** Calibration data that does not fit the model: shape, dtype, missing input, NaN. */
export class DataError extends QbenchError {
  constructor(message: string, fileName?: string) {
    super(message, fileName);
    this.name = 'DataError';
  }
}

/** The inference engine refused the model (an operator it cannot run, a bad graph). */
export class EngineError extends QbenchError {
  constructor(message: string, fileName?: string) {
    super(message, fileName);
    this.name = 'EngineError';
  }
}

/** A job stopped because the user cancelled it; never shown as a failure. */
export class CancelledError extends Error {
  constructor() {
    super('cancelled');
    this.name = 'CancelledError';
  }
}

export function isCancelled(error: unknown): boolean {
  return error instanceof Error && error.name === 'CancelledError';
}

/** The text to show for any thrown value. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

/**
 * A failure during one step of a job, told in the user's terms: the file, the step ("ranking layer
 * conv_3 with method kl") and what went wrong. Cancellation and errors a caller recovers from by
 * name (a missing calibration range) pass through unchanged.
 * @example stepError(new Error('zoo.onnx: onnxruntime could not load the model: ...'), 'zoo.onnx', 'ranking layer "Conv_3"').message
 * // 'zoo.onnx: ranking layer "Conv_3": onnxruntime could not load the model: ...'
 */
export function stepError(error: unknown, fileName: string, step: string): unknown {
  if (isCancelled(error) || (error instanceof Error && (error.name === 'MissingCalibrationError' || error.name === 'StepError'))) return error;
  const detail = errorMessage(error).replace(new RegExp(`^${fileName.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `), '');
  const wrapped = new QbenchError(`${step}: ${detail}`, fileName);
  wrapped.name = 'StepError';
  return wrapped;
}

/**
 * A sample the engine could not run in a step, told as stepError tells it, with the sample.
 * @example sampleError(runError(...), 'det.onnx', 'calibrating', 0, 'a.npy').message
 * // 'det.onnx: calibrating, sample 0 (a.npy): onnxruntime failed running node "bad" (Reshape): ...'
 */
export function sampleError(error: unknown, fileName: string, step: string, index: number, sampleName: string): unknown {
  return stepError(error, fileName, `${step}, sample ${index} (${sampleName})`);
}

/** A QbenchError that names no file gets `fileName` (the model a job ran on); anything else is returned as it is. */
export function withFileName(error: unknown, fileName: string): unknown {
  if (!(error instanceof QbenchError) || error.fileName) return error;
  const named = new QbenchError(error.message, fileName);
  named.name = error.name;
  return named;
}

/**
 * A QTable quantizes a tensor that calibration did not observe (one fused into an activation under
 * the default QTable): the workbench calibrates it and builds again.
 */
export class MissingCalibrationError extends QbenchError {
  constructor(readonly tensor: string) {
    super(`tensor "${tensor}" has no calibration range; run calibration before quantizing`);
    this.name = 'MissingCalibrationError';
  }
}
