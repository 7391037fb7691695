import { describe, expect, it } from 'vitest';
import { checkLimit, DEFAULT_LIMITS, LimitError, limitText, parseLimit } from './limits';

describe('limits', () => {
  it('parses what a flag or a setting takes: whole numbers, bytes with binary suffixes; nothing else', () => {
    expect(parseLimit('100000')).toBe(100000);
    expect(parseLimit('2G')).toBe(2 ** 31);
    expect(parseLimit(' 64 MiB ')).toBe(64 * 2 ** 20);
    expect(parseLimit('1.5k')).toBe(1536);
    for (const bad of ['abc', '', '0', '-5', '1e9', '0.5', '1.5', '12 apples', 'Infinity', '99999999999999999999']) expect(parseLimit(bad), bad).toBeNull();
  });

  it('writes limits back as they are typed: the largest exact suffix for bytes', () => {
    expect(limitText('tensorBytes', DEFAULT_LIMITS.tensorBytes)).toBe('1G');
    expect(limitText('archiveBytes', 3 * 2 ** 20)).toBe('3M');
    expect(limitText('modelBytes', 1000)).toBe('1000');
    expect(limitText('imagePixels', DEFAULT_LIMITS.imagePixels)).toBe('67108864');
    for (const name of ['tensorBytes', 'archiveBytes', 'modelBytes'] as const) expect(parseLimit(limitText(name, DEFAULT_LIMITS[name]))).toBe(DEFAULT_LIMITS[name]);
  });

  it('passes a value at the limit and refuses one past it, naming the file, the figure, the limit and how to raise it', () => {
    expect(() => checkLimit(DEFAULT_LIMITS, 'samples', 100_000, 'holds 100,000 samples', 'a.npy')).not.toThrow();
    let error: unknown;
    try {
      checkLimit(DEFAULT_LIMITS, 'samples', 100_001, 'holds 100,001 samples', 'a.npy');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(LimitError);
    expect((error as LimitError).limit).toBe('samples');
    expect((error as LimitError).fileName).toBe('a.npy');
    expect((error as LimitError).message).toBe('a.npy: holds 100,001 samples (100,001), over the limit of 100,000 samples per dataset; raise it with --max_dataset_samples N (CLI) or Data & calibration → Limits → Samples (page)');
    expect(() => checkLimit(DEFAULT_LIMITS, 'threads', 65, '--threads 65')).toThrow('--threads 65 (65), over the limit of 64 threads; raise it with --max_threads N (CLI)');
  });
});
