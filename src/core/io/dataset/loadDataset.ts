import { DataError, FormatError, QbenchError, errorMessage } from '../../errors';
import { checkLimit, checkSamples, DEFAULT_LIMITS, type Limits } from '../limits';
import type { ValueDesc } from '../../model/ModelGraph';
import type { TensorMap } from '../../model/tensor';
import { convertDtype } from './convertDtype';
import type { Dataset } from './Dataset';
import { datasetFileBytes, type DatasetFile } from './DatasetFile';
import { readOneH5 } from './h5';
import { declaredSize } from './imageHeader';
import type { ImageDecoder } from './ImageDecoder';
import type { ImagePreprocess } from './ImagePreprocess';
import { imageInputShape, imageToTensor, type ImageInputShape } from './images';
import { naturalCompare } from './naturalCompare';
import { parseNpy } from './npy';
import { readNpz } from './npz';
import { samplesFromArrays } from './samplesFromArrays';
import { validateDataset } from './validate';

export type { ImageDecoder, RgbaImage } from './ImageDecoder';
export { DEFAULT_PREPROCESS, type ImagePreprocess } from './ImagePreprocess';
export { datasetFileBytes, type BlobLike, type DatasetFile } from './DatasetFile';
export { DEFAULT_LIMITS, type Limits } from '../limits';

export type DatasetFileKind = 'npy' | 'npz' | 'h5' | 'image';

const KINDS: Readonly<Record<string, DatasetFileKind>> = {
  npy: 'npy', npz: 'npz', h5: 'h5', hdf5: 'h5',
  jpg: 'image', jpeg: 'image', png: 'image', bmp: 'image', webp: 'image',
};

/**
 * What a calibration file is, by its extension (any case).
 * @example datasetFileKind('IMG_0001.JPG') // 'image'
 */
export function datasetFileKind(name: string): DatasetFileKind {
  const extension = /\.([^./\\]+)$/.exec(name)?.[1]?.toLowerCase() ?? '';
  const kind = KINDS[extension];
  if (!kind) throw new FormatError(name, 'is not a kind of calibration data qbench reads (.npy, .npz, .h5/.hdf5 in Samsung ONE layout, or images: .jpg, .jpeg, .png, .bmp, .webp)');
  return kind;
}

const inputList = (inputs: readonly ValueDesc[]) => inputs.map((i) => i.name).join(', ');

/**
 * Reads calibration files into a Dataset for a model with `inputs` (docs/formats.md "Calibration
 * data"). Files are taken in natural name order (img2 before img10), so sample indices are stable:
 * - .npy: one array for a one-input model: the input's shape, that shape without the batch dim,
 *   or a batch along axis 0 that splits into samples of batch 1;
 * - .npz: one entry per input ("x.npy" for input x, or arr_0, arr_1... in input order), each read
 *   like a .npy and all giving the same number of samples;
 * - .h5/.hdf5: Samsung ONE's /value/<sample>/<input> (see h5.ts);
 * - images: decoded by `decoder`, then resized, cropped and normalised by `preprocess` (images.ts);
 *   one sample each, for a model with one input.
 * Each tensor is then converted to its input's dtype where no value changes (or float64 to
 * float32), and the whole is checked by validateDataset. Throws FormatError for a file that is not
 * what its name says, DataError for data that does not fit the model, naming the file or sample,
 * and LimitError for a file that declares more than `limits` allow (before decoding or allocating it).
 * @example await loadDataset([{ name: 'x.npy', bytes }], [{ name: 'x', dtype: 'float32', dims: [1, 4] }], DEFAULT_PREPROCESS, decoder) // { samples: [{ x: ... }], sampleNames: ['x.npy'] }
 */
export async function loadDataset(files: readonly DatasetFile[], inputs: readonly ValueDesc[], preprocess: ImagePreprocess, decoder: ImageDecoder, limits: Limits = DEFAULT_LIMITS): Promise<Dataset> {
  if (files.length === 0) throw new DataError('no calibration files');
  if (inputs.length === 0) throw new DataError('the model has no inputs to feed');
  // Classify every file first, so a stray file fails before any slow decoding.
  const ordered = [...files].sort((a, b) => naturalCompare(a.name, b.name)).map((file) => ({ file, kind: datasetFileKind(file.name) }));
  // Images are one sample each: too many are refused before the first is decoded.
  const images = ordered.filter((f) => f.kind === 'image');
  if (images.length > 0) checkLimit(limits, 'samples', images.length, `the data holds ${images.length} images, one sample each`, images[0].file.name);

  const samples: TensorMap[] = [];
  const sampleNames: string[] = [];
  /** What a file's arrays are checked against: the limits, and the samples the files before it gave. */
  const budget = () => ({ limits, held: samples.length });
  const addRows = (rows: readonly TensorMap[], fileName: string) => {
    rows.forEach((row, i) => {
      samples.push(row);
      sampleNames.push(rows.length === 1 ? fileName : `${fileName} row ${i}`);
    });
  };
  let imageShape: ImageInputShape | undefined;

  for (const { file, kind } of ordered) {
    switch (kind) {
      case 'npy': {
        if (inputs.length !== 1) {
          throw new DataError(`a .npy file holds one array, but the model has ${inputs.length} inputs (${inputList(inputs)}); use an .npz file with one entry per input name`, file.name);
        }
        addRows(samplesFromArrays(new Map([[inputs[0].name, parseNpy(await datasetFileBytes(file), file.name, limits)]]), inputs, file.name, budget()), file.name);
        break;
      }
      case 'npz':
        addRows(samplesFromArrays(readNpz(await datasetFileBytes(file), file.name, inputs, limits), inputs, file.name, budget()), file.name);
        break;
      case 'h5': {
        const read = await readOneH5(file, inputs, budget());
        samples.push(...read.samples);
        sampleNames.push(...read.sampleNames);
        break;
      }
      case 'image': {
        if (inputs.length !== 1) throw new DataError(`images can feed a model with one image input; model has inputs ${inputList(inputs)}`);
        checkSamples(budget(), 1, file.name);
        imageShape ??= imageInputShape(inputs[0], preprocess, limits, file.name);
        const image = await decodeImageFile(decoder, file, limits);
        samples.push({ [inputs[0].name]: imageToTensor(image, imageShape, preprocess) });
        sampleNames.push(file.name);
        break;
      }
    }
  }

  samples.forEach((sample, i) => {
    for (const input of inputs) {
      const tensor = sample[input.name];
      if (!tensor || !input.dtype || input.dtype === 'other' || tensor.dtype === input.dtype) continue;
      const converted = convertDtype(tensor, input.dtype);
      if ('problem' in converted) {
        throw new DataError(`sample ${i} (${sampleNames[i]}): input "${input.name}" expects ${input.dtype} but the data is ${tensor.dtype}; ${converted.problem}`);
      }
      sample[input.name] = converted.tensor;
    }
  });
  const dataset: Dataset = { samples, sampleNames };
  validateDataset(dataset, inputs);
  return dataset;
}

/** Checks the size the image's header declares against the pixel limit, then decodes it (the loader's and the preview's one way in). */
export async function decodeImageFile(decoder: ImageDecoder, file: DatasetFile, limits: Limits) {
  const bytes = await datasetFileBytes(file);
  const size = declaredSize(bytes);
  // Only a size read from the header bounds what a decoder allocates: a file whose size cannot be read is not decoded.
  if (!size) throw new FormatError(file.name, 'is not a PNG, JPEG, BMP or WebP image (its first bytes match none)');
  if ('truncated' in size) throw new FormatError(file.name, `the ${size.format.toUpperCase()} header ends before the image size (truncated?)`);
  checkLimit(limits, 'imagePixels', size.width * size.height, `the ${size.format.toUpperCase()} header declares ${size.width} x ${size.height} pixels`, file.name);
  try {
    return await decoder.decode(bytes, file.name);
  } catch (error) {
    if (error instanceof QbenchError) throw error;
    throw new FormatError(file.name, `cannot decode the image: ${errorMessage(error)}`);
  }
}
