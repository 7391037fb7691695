/**
 * The `capacity` largest values seen so far, in a binary min-heap: adding is O(log capacity) and a
 * value below the smallest kept one is rejected in O(1). Keeping the k largest of every sample and
 * then the k largest of their union (TPU-MLIR's percentile9999: `sort_distr_per` per sample, then
 * `np.sort` of the concatenation) gives the same k largest as keeping them over the stream.
 */
export class LargestValues {
  private readonly heap: Float64Array;
  private size = 0;

  constructor(readonly capacity: number) {
    this.heap = new Float64Array(Math.max(0, capacity));
  }

  get length(): number {
    return this.size;
  }

  add(value: number): void {
    const heap = this.heap;
    if (this.size < this.capacity) {
      let i = this.size++;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (heap[parent] <= value) break;
        heap[i] = heap[parent];
        i = parent;
      }
      heap[i] = value;
      return;
    }
    if (this.capacity === 0 || value <= heap[0]) return;
    // Replace the root (the smallest kept value) and sift down.
    let i = 0;
    const n = this.size;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && heap[right] < heap[left] ? right : left;
      if (heap[child] >= value) break;
      heap[i] = heap[child];
      i = child;
    }
    heap[i] = value;
  }

  /** The kept values, largest first. */
  descending(): Float64Array {
    return this.heap.slice(0, this.size).sort().reverse();
  }
}

/** The `capacity` smallest values seen so far (the largest of the negated values). */
export class SmallestValues {
  private readonly largestNegated: LargestValues;

  constructor(readonly capacity: number) {
    this.largestNegated = new LargestValues(capacity);
  }

  get length(): number {
    return this.largestNegated.length;
  }

  add(value: number): void {
    this.largestNegated.add(-value);
  }

  /** The kept values, smallest first. */
  ascending(): Float64Array {
    return this.largestNegated.descending().map((v) => -v);
  }
}
