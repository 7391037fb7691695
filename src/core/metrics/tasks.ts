import type { DetectorLayout } from './detections';

/**
 * What an output is for (issue #11), so that it is judged in its task's own terms: a classifier by
 * whether the same classes win, a detector by whether the same objects are found, a dense map by
 * whether the same pixels are on, a CTC sequence by whether it decodes to the same text. A cosine
 * says none of these: a clipped top logit or a Concat that rounds every probability to 0 keeps cos
 * 0.99.
 */
export type OutputTask = 'classifier' | 'detector' | 'dense' | 'sequence' | 'other';

export const OUTPUT_TASKS: readonly OutputTask[] = ['classifier', 'detector', 'dense', 'sequence', 'other'];

export const OUTPUT_TASK_LABEL: Record<OutputTask, string> = {
  classifier: 'classifier (top-1 / top-5)',
  detector: 'detector (detection F1)',
  dense: 'dense map (IoU)',
  sequence: 'sequence (CTC greedy decode)',
  other: 'other (cosine, SQNR)',
};

/** An output's task with what its metric needs to read it. */
export type TaskSpec =
  | { readonly task: 'classifier' }
  | { readonly task: 'detector'; readonly layout: DetectorLayout }
  /** A map [N, C, H, W] (channelsLast: [N, H, W, C]); one channel is thresholded, several are an arg-max per pixel. */
  | { readonly task: 'dense'; readonly channelsLast: boolean; readonly threshold: number }
  /** A CTC output [N, T, C] (timeFirst: [T, N, C]); class `blank` is CTC's blank. */
  | { readonly task: 'sequence'; readonly timeFirst: boolean; readonly blank: number }
  | { readonly task: 'other' };

/** The headline task figure of each task (higher is better, 0..1), and its words. */
export const PRIMARY_FIGURE: Record<Exclude<OutputTask, 'other'>, { readonly key: string; readonly label: string }> = {
  classifier: { key: 'top1', label: 'top-1 agreement' },
  detector: { key: 'f1', label: 'detection F1' },
  dense: { key: 'iou', label: 'map IoU' },
  sequence: { key: 'chars', label: 'decoded text agreement' },
};
