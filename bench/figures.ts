/** How the benchmarks round and summarise what they time (one place, so every section reads alike). */

/** Milliseconds to one decimal. */
export const round = (ms: number) => Math.round(ms * 10) / 10;

/** A ratio to two decimals. */
export const ratio = (x: number) => Math.round(x * 100) / 100;

/** The middle value (the upper one of an even count): what a noisy machine's repeated timings report. */
export const median = (values: readonly number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
