import type { Outcome } from './loaders';

/** Why a case failed; a passing case has none. */
export type FailureKind = 'hang' | 'abort' | 'uncaught' | 'raw-error' | 'unnamed' | 'bug-text';

export interface Verdict {
  readonly pass: boolean;
  readonly failure?: FailureKind;
  /** What to print: the message, or what happened instead of one. */
  readonly detail: string;
}

/**
 * Text that only a bug produces, even inside a qbench error: a loader that wraps every exception
 * in "cannot decode the image: ..." still hides a crash of its own code. A damaged file's own
 * description from a library ("invalid distance too far back", "index out of range: 4 + 9 > 12"
 * after qbench's "truncated or damaged") is what the user should read, and passes.
 */
const BUG_TEXT = [
  /Maximum call stack size exceeded/i,
  /Cannot read propert(y|ies) of (undefined|null)/i,
  /Cannot set propert(y|ies) of (undefined|null)/i,
  /is not a function/i,
  /is not iterable/i,
  /is not defined/i,
  /Invalid (typed )?array length/i,
  /Array buffer allocation failed/i,
  /Invalid string length/i,
  /out of memory/i,
  /\bat [\w.<>]+ \(.*:\d+:\d+\)/, // a stack frame
  /\bundefined\b(?!["'])/, // "undefined" printed as a value, not quoted from the file
];

/**
 * A case passes when it loaded, or was refused with one of qbench's errors (QbenchError and its
 * kinds) whose message names the file and carries no text only a bug produces. Hangs, aborts and
 * errors that escaped every handler fail whatever they say.
 */
export function judge(outcome: Outcome, fileName: string): Verdict {
  switch (outcome.status) {
    case 'loaded': return { pass: true, detail: outcome.detail };
    case 'hang': return { pass: false, failure: 'hang', detail: `no answer within ${outcome.ms} ms; the host was terminated` };
    case 'abort': return { pass: false, failure: 'abort', detail: outcome.detail };
    case 'uncaught': return { pass: false, failure: 'uncaught', detail: outcome.message };
    case 'refused': {
      const line = `${outcome.errorName}: ${outcome.message}`;
      if (!outcome.qbench) return { pass: false, failure: 'raw-error', detail: line };
      if (!outcome.message.includes(fileName)) return { pass: false, failure: 'unnamed', detail: line };
      if (BUG_TEXT.some((pattern) => pattern.test(outcome.message.split(fileName).join('')))) return { pass: false, failure: 'bug-text', detail: line };
      return { pass: true, detail: line };
    }
  }
}
