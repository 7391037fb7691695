import { CancelledError } from '../errors';

export interface JobProgress {
  /** What the job is doing now, for the progress bar ("calibrating", "evaluating"). */
  readonly stage: string;
  readonly done: number;
  readonly total: number;
}

/**
 * What a long core function gets from whoever runs it: a way to report progress and a
 * cancellation check. Cancellation is checked between inferences, never inside one, so a
 * job stops within one inference of the request.
 */
export interface JobContext {
  progress(progress: JobProgress): void;
  throwIfCancelled(): void;
  readonly cancelled: boolean;
}

export class CancelToken {
  private flag = false;
  cancel(): void {
    this.flag = true;
  }
  get cancelled(): boolean {
    return this.flag;
  }
}

export function jobContext(onProgress: (p: JobProgress) => void = () => {}, token: CancelToken = new CancelToken()): JobContext {
  return {
    progress: onProgress,
    throwIfCancelled() {
      if (token.cancelled) throw new CancelledError();
    },
    get cancelled() {
      return token.cancelled;
    },
  };
}

/** A context for work nobody watches or cancels (tests, one-shot CLI steps). */
export const silentJob: JobContext = jobContext();
