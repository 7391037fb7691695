/**
 * Detections read from a detector's raw output (issue #11), so that float and quantized can be
 * compared in the task's own terms: which objects were found, not how close the numbers are. A
 * YOLO head whose class probabilities all round to 0 keeps cos 0.9996 and finds nothing.
 */

/** How a detector's outputs hold boxes and scores. */
export type DetectorLayout =
  /** One output [N, 4 + C, A] (YOLOv8 export): rows are cx, cy, w, h, then C class scores; columns are anchors. */
  | { readonly kind: 'yolo'; readonly channelsFirst: true; readonly classes: number }
  /** One output [N, A, 4 + C]. */
  | { readonly kind: 'yolo'; readonly channelsFirst: false; readonly classes: number }
  /**
   * Two outputs (SSD, BlazeFace): boxes [N, A, K >= 4] whose first 4 values are cx, cy, w, h (or
   * offsets from an anchor: the same anchor in float and quantized, so IoU still compares them), and
   * scores [N, A, C]. Scores outside [0, 1] are logits and go through a sigmoid.
   */
  | { readonly kind: 'ssd'; readonly boxesOutput: string; readonly classes: number; readonly logits: boolean };

export interface Detection {
  /** Anchor (column) index the detection comes from. */
  readonly anchor: number;
  readonly cls: number;
  readonly score: number;
  /** x1, y1, x2, y2 in the output's own units. */
  readonly box: readonly [number, number, number, number];
}

/** A detection counts above this score (YOLO's and most demos' default confidence threshold). */
export const SCORE_THRESHOLD = 0.25;
/** A quantized detection matches a float one at this IoU or more, with the same class. */
export const MATCH_IOU = 0.5;
/** At most this many candidates per image go into NMS, and this many detections come out (the largest scores), keeping matching cheap. */
const MAX_CANDIDATES = 3000;
const MAX_DETECTIONS = 300;
/** Non-maximum suppression: a detection overlapping a better one of its class by more than this is the same object (YOLO's and SSD's usual 0.45). */
const NMS_IOU = 0.45;

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

/**
 * The detections of image `row` of a detector output, above `threshold`, highest score first, after
 * per-class non-maximum suppression (what a detector's user gets: raw anchors overlap by the dozen,
 * and comparing them one by one would count the same object many times). For the 'ssd' layout,
 * `boxes` is the boxes output's data; for 'yolo' it is unused.
 */
export function decodeDetections(layout: DetectorLayout, scores: ArrayLike<number>, dims: readonly number[], boxes: ArrayLike<number> | null, row = 0, threshold = SCORE_THRESHOLD): Detection[] {
  return decodeImage(layout, scores, dims, boxes, row, threshold).detections;
}

/** The detections of one image and its best class score (a sigmoid applied to logits), in one pass over the scores. */
export function decodeImage(layout: DetectorLayout, scores: ArrayLike<number>, dims: readonly number[], boxes: ArrayLike<number> | null, row = 0, threshold = SCORE_THRESHOLD): { detections: Detection[]; bestScore: number } {
  const found: Detection[] = [];
  let bestScore = -Infinity;
  if (layout.kind === 'yolo') {
    const k = 4 + layout.classes;
    const anchors = layout.channelsFirst ? dims[2] : dims[1];
    const base = row * k * anchors;
    // Each anchor's best class, read in memory order (a YOLOv8 output is 84 x 8400: class-major).
    const best = new Float32Array(anchors).fill(-Infinity);
    const cls = new Int32Array(anchors);
    if (layout.channelsFirst) {
      for (let c = 0; c < layout.classes; c++) {
        const offset = base + (4 + c) * anchors;
        for (let a = 0; a < anchors; a++) {
          const v = scores[offset + a];
          if (v > best[a]) {
            best[a] = v;
            cls[a] = c;
          }
        }
      }
    } else {
      for (let a = 0; a < anchors; a++) {
        const offset = base + a * k + 4;
        for (let c = 0; c < layout.classes; c++) {
          const v = scores[offset + c];
          if (v > best[a]) {
            best[a] = v;
            cls[a] = c;
          }
        }
      }
    }
    const at = layout.channelsFirst ? (a: number, c: number) => scores[base + c * anchors + a] : (a: number, c: number) => scores[base + a * k + c];
    for (let a = 0; a < anchors; a++) {
      if (best[a] > bestScore) bestScore = best[a];
      if (!(best[a] >= threshold)) continue;
      found.push({ anchor: a, cls: cls[a], score: best[a], box: corners(at(a, 0), at(a, 1), at(a, 2), at(a, 3)) });
    }
  } else {
    const anchors = dims[1];
    const classes = layout.classes;
    const boxWidth = boxes ? boxes.length / ((dims[0] || 1) * anchors) : 0;
    for (let a = 0; a < anchors; a++) {
      let cls = 0;
      let best = -Infinity;
      for (let c = 0; c < classes; c++) {
        const raw = scores[(row * anchors + a) * classes + c];
        const v = layout.logits ? sigmoid(raw) : raw;
        if (v > best) [best, cls] = [v, c];
      }
      if (best > bestScore) bestScore = best;
      if (!(best >= threshold) || !boxes) continue;
      const b = (row * anchors + a) * boxWidth;
      found.push({ anchor: a, cls, score: best, box: corners(boxes[b], boxes[b + 1], boxes[b + 2], boxes[b + 3]) });
    }
  }
  found.sort((x, y) => y.score - x.score);
  return { detections: suppress(found.length > MAX_CANDIDATES ? found.slice(0, MAX_CANDIDATES) : found), bestScore };
}

/** Greedy per-class NMS over detections sorted by score (each compared only with the kept ones of its class). */
function suppress(sorted: readonly Detection[]): Detection[] {
  const kept: Detection[] = [];
  const keptByClass = new Map<number, Detection[]>();
  for (const d of sorted) {
    if (kept.length >= MAX_DETECTIONS) break;
    const same = keptByClass.get(d.cls);
    if (same?.some((k) => iou(k.box, d.box) > NMS_IOU)) continue;
    kept.push(d);
    if (same) same.push(d);
    else keptByClass.set(d.cls, [d]);
  }
  return kept;
}

function corners(cx: number, cy: number, w: number, h: number): [number, number, number, number] {
  return [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2];
}

export function iou(a: Detection['box'], b: Detection['box']): number {
  const w = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  const h = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  if (!(w > 0 && h > 0)) return 0;
  const inter = w * h;
  const union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
  return union > 0 ? inter / union : 0;
}

/** How the quantized detections agree with the float ones, the float ones taken as the truth. */
export interface DetectionAgreement {
  /** Matched / quantized detections (1 when there are none). */
  readonly precision: number;
  /** Matched / float detections (1 when there are none). */
  readonly recall: number;
  /** Harmonic mean of the two (1 when neither model detects anything: they agree). */
  readonly f1: number;
  readonly floatCount: number;
  readonly quantizedCount: number;
}

/** Greedy matching, highest float score first: each float detection takes the unmatched quantized one of its class with the highest IoU >= MATCH_IOU. */
export function matchDetections(reference: readonly Detection[], actual: readonly Detection[]): DetectionAgreement {
  const used = new Uint8Array(actual.length);
  let matched = 0;
  for (const f of reference) {
    let best = -1;
    let bestIou = MATCH_IOU;
    for (let j = 0; j < actual.length; j++) {
      if (used[j] || actual[j].cls !== f.cls) continue;
      const overlap = iou(f.box, actual[j].box);
      if (overlap >= bestIou) [best, bestIou] = [j, overlap];
    }
    if (best >= 0) {
      used[best] = 1;
      matched++;
    }
  }
  const precision = actual.length ? matched / actual.length : 1;
  const recall = reference.length ? matched / reference.length : 1;
  const f1 = reference.length === 0 && actual.length === 0 ? 1 : precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  return { precision, recall, f1, floatCount: reference.length, quantizedCount: actual.length };
}
