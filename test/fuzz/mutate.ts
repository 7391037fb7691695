import { inflationTargets, repairChecksums, type FileFormat } from './formatFields';

/**
 * Byte-level mutations of a seed file. Each takes the bytes and a seeded random source and returns
 * new bytes plus a one-line description, so a failing case says what was done to which seed and can
 * be regenerated from (seed, case index) alone.
 */
export type MutationKind = 'flip' | 'truncate' | 'splice' | 'inflate' | 'zero' | 'duplicate';
export const MUTATION_KINDS: readonly MutationKind[] = ['flip', 'truncate', 'splice', 'inflate', 'zero', 'duplicate'];

export interface Mutated {
  readonly bytes: Uint8Array;
  readonly what: string;
}

type Random = () => number;
const int = (random: Random, n: number) => Math.floor(random() * n);

/** Values written over a length or dimension field: the ones parsers get wrong (sign bit, 2^31, 2^32-1, 0, a few times the real size). */
const HUGE_VALUES = [0, 1, 0x7f, 0xff, 0x7fff, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff, 0x10000, 1_000_000];

function flip(bytes: Uint8Array, random: Random): Mutated {
  const out = bytes.slice();
  const count = 1 + int(random, 8);
  const at: number[] = [];
  for (let k = 0; k < count && out.length > 0; k++) {
    const i = int(random, out.length);
    // Half the time one bit (a near miss a checksum-free format may accept), else a whole random byte.
    out[i] = random() < 0.5 ? out[i] ^ (1 << int(random, 8)) : int(random, 256);
    at.push(i);
  }
  return { bytes: out, what: `flip ${at.length} byte(s) at ${at.slice(0, 4).join(',')}${at.length > 4 ? ',...' : ''}` };
}

function truncate(bytes: Uint8Array, random: Random): Mutated {
  // Half the cuts land in the last 64 bytes: a download that stopped just short is the common case.
  const end = random() < 0.5 ? Math.max(0, bytes.length - 1 - int(random, 64)) : int(random, bytes.length);
  return { bytes: bytes.slice(0, end), what: `truncate to ${end} of ${bytes.length} bytes` };
}

function splice(bytes: Uint8Array, random: Random, donor: Uint8Array): Mutated {
  // A run of another seed of the same kind put in place of a run of this one: structure that parses, in the wrong place.
  const from = int(random, Math.max(1, donor.length));
  const length = Math.min(donor.length - from, 1 + int(random, 256));
  const at = int(random, bytes.length + 1);
  const drop = int(random, Math.min(64, bytes.length - at) + 1);
  const out = new Uint8Array(bytes.length - drop + length);
  out.set(bytes.subarray(0, at));
  out.set(donor.subarray(from, from + length), at);
  out.set(bytes.subarray(at + drop), at + length);
  return { bytes: out, what: `splice ${length} donor bytes from ${from} at ${at} over ${drop}` };
}

function inflate(bytes: Uint8Array, random: Random, format: FileFormat): Mutated {
  const targets = inflationTargets(bytes, format);
  if (targets.length === 0) return flip(bytes, random);
  const target = targets[int(random, targets.length)];
  const value = HUGE_VALUES[int(random, HUGE_VALUES.length)];
  const out = target.write(value);
  return { bytes: out, what: `inflate ${target.name} to ${target.label?.(value) ?? value}` };
}

function zero(bytes: Uint8Array, random: Random): Mutated {
  const out = bytes.slice();
  const at = int(random, Math.max(1, out.length));
  const length = 1 + int(random, 128);
  out.fill(0, at, at + length);
  return { bytes: out, what: `zero ${Math.min(length, out.length - at)} bytes at ${at}` };
}

function duplicate(bytes: Uint8Array, random: Random): Mutated {
  // Repeated up to 2000 times: for text this nests JSON and multiplies table lines, for binary it shifts every later offset.
  const at = int(random, Math.max(1, bytes.length));
  const length = Math.min(bytes.length - at, 1 + int(random, 32));
  const times = random() < 0.8 ? 1 : 1 + int(random, 2000);
  const chunk = bytes.subarray(at, at + length);
  const out = new Uint8Array(bytes.length + length * times);
  out.set(bytes.subarray(0, at + length));
  for (let k = 1; k <= times; k++) out.set(chunk, at + length * k);
  out.set(bytes.subarray(at + length), at + length * (times + 1));
  return { bytes: out, what: `duplicate ${length} bytes at ${at} x${times}` };
}

/**
 * One to three mutations, chosen by `random`, applied in turn; then the checksums the format keeps
 * (PNG chunk CRCs) are made right again half the time, so the decoder looks past its checksum.
 */
export function mutate(bytes: Uint8Array, format: FileFormat, random: Random, donor: Uint8Array): Mutated {
  let current = bytes;
  const steps: string[] = [];
  // Mostly one: a file damaged in one place gets furthest into the loader, where the defects hide.
  const count = random() < 0.6 ? 1 : 2 + int(random, 2);
  for (let k = 0; k < count; k++) {
    const kind = MUTATION_KINDS[int(random, MUTATION_KINDS.length)];
    const result = kind === 'flip' ? flip(current, random)
      : kind === 'truncate' ? truncate(current, random)
      : kind === 'splice' ? splice(current, random, donor)
      : kind === 'inflate' ? inflate(current, random, format)
      : kind === 'zero' ? zero(current, random)
      : duplicate(current, random);
    current = result.bytes;
    steps.push(result.what);
  }
  if (random() < 0.5 && repairChecksums(current, format)) steps.push('checksums repaired');
  return { bytes: current, what: steps.join('; ') };
}
