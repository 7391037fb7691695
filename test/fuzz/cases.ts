import type { GraphNode, ValueDesc } from '../../src/core/model/ModelGraph';
import { seededRandom } from '../../src/core/seededRandom';
import type { FileFormat } from './formatFields';
import { mutate } from './mutate';
import { mutateOnnx } from './onnxMutate';
import type { Seed } from './seeds';

/** One fuzz case: a mutated file and what its loader needs. Plain data: it crosses to a worker and is written out for replay. */
export interface FuzzCase {
  readonly id: number;
  readonly seedName: string;
  readonly format: FileFormat;
  /** The name the loader is given, and which a refusal must name. Its extension is the seed's (loaders dispatch on it). */
  readonly fileName: string;
  readonly bytes: Uint8Array;
  /** The mutations applied, in order. */
  readonly what: string;
  readonly inputs?: readonly ValueDesc[];
  readonly nodes?: readonly GraphNode[];
  readonly dequantize?: boolean;
}

/** How often each family is drawn: datasets have the most formats, models the deepest loader. */
const FAMILY_WEIGHTS: readonly [readonly FileFormat[], number][] = [
  [['onnx'], 0.35],
  [['npy', 'npz', 'h5', 'png', 'jpeg'], 0.45],
  [['cali_table', 'qtable', 'one_config'], 0.2],
];

/** Each case has its own random stream from (run seed, index): case 517 of seed 1 is the same whether 600 or 10,000 cases run. */
function caseRandom(runSeed: number, index: number): () => number {
  return seededRandom(Math.imul(runSeed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35));
}

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)];
}

function pickSeed(random: () => number, seeds: readonly Seed[]): Seed {
  let r = random();
  let formats = FAMILY_WEIGHTS[FAMILY_WEIGHTS.length - 1][0];
  for (const [family, weight] of FAMILY_WEIGHTS) {
    if (r < weight) {
      formats = family;
      break;
    }
    r -= weight;
  }
  const family = seeds.filter((s) => formats.includes(s.format));
  // Real models (hundreds of KB) are a third of the model cases: most of the loader is reached by the tiny ones, faster.
  const small = family.filter((s) => !s.large);
  const large = family.filter((s) => s.large);
  return large.length > 0 && (small.length === 0 || random() < 1 / 3) ? pick(random, large) : pick(random, small);
}

export function makeCase(runSeed: number, index: number, seeds: readonly Seed[]): FuzzCase {
  const random = caseRandom(runSeed, index);
  const seed = pickSeed(random, seeds);
  const sameFormat = seeds.filter((s) => s.format === seed.format);
  const donor = pick(random, sameFormat).bytes;
  // Half the models are edited as decoded protobuf (valid encoding, wrong content): bytes alone rarely get past the decoder.
  const { bytes, what } = (seed.format === 'onnx' && random() < 0.5 ? mutateOnnx(seed.bytes, random) : null) ?? mutate(seed.bytes, seed.format, random, donor);
  return {
    id: index,
    seedName: seed.name,
    format: seed.format,
    fileName: `fuzz${index}-${seed.name}`,
    bytes,
    what,
    ...(seed.inputs ? { inputs: seed.inputs } : {}),
    ...(seed.nodes ? { nodes: seed.nodes } : {}),
    ...(seed.dequantize ? { dequantize: true } : {}),
  };
}
