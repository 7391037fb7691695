import { readFileSync } from 'node:fs';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import type { RgbaImage } from './ImageDecoder';
import { grey } from './testSupport';
import { parseNpy } from './npy';
import { centerCrop, resizeBilinear } from './resize';


/** Channel 0 of each pixel, as rows (and a check that the other channels went the same way). */
function rowsOf(image: RgbaImage): number[][] {
  const out: number[][] = [];
  for (let y = 0; y < image.height; y++) {
    const row: number[] = [];
    for (let x = 0; x < image.width; x++) {
      const i = (y * image.width + x) * 4;
      expect([image.data[i + 1], image.data[i + 2], image.data[i + 3]]).toEqual([image.data[i], image.data[i], 255]);
      row.push(image.data[i]);
    }
    out.push(row);
  }
  return out;
}

describe('resizeBilinear matches cv2.resize INTER_LINEAR', () => {
  it('2x2 -> 4x4: half-pixel centres, edge pixels kept, two-step rounding', () => {
    // x taps (scale 0.5, f = (dx + 0.5) * 0.5 - 0.5): dx0 f=-0.25 -> edge, weights 2048/0; dx1 f=0.25 ->
    // 1536/512; dx2 f=0.75 -> 512/1536; dx3 f=1.25 -> edge pixel 1, 2048/0. Horizontal sums (x 2048):
    // row [0, 100] -> 0, 51200, 153600, 204800; row [200, 250] -> 409600, 435200, 486400, 512000.
    // y taps keep their weights and clamp the rows: dy0 f=-0.25 -> rows 0,0 weights 512/1536;
    // dy1 rows 0,1 1536/512; dy2 rows 0,1 512/1536; dy3 rows 1,1 1536/512.
    // Vertical: (((S0>>4)*b0 >> 16) + ((S1>>4)*b1 >> 16) + 2) >> 2, e.g.
    // dy1 dx1: (3200*1536>>16 = 75) + (27200*512>>16 = 212) = 287, +2 >> 2 = 72 (exact 71.875);
    // dy1 dx3: 300 + 250 = 550 -> 138 (exact 137.5); dy3 dx1: 637 + 212 = 849 -> 212 (exact 212.5).
    const out = resizeBilinear(grey([[0, 100], [200, 250]]), 4, 4);
    expect(rowsOf(out)).toEqual([
      [0, 25, 75, 100],
      [50, 72, 116, 138],
      [150, 166, 197, 213],
      [200, 212, 237, 250],
    ]);
  });

  it('4x4 -> 2x2: the mean of each 2x2 block, rounded half up (cv2 uses INTER_AREA here; same values)', () => {
    // f = (d + 0.5) * 2 - 0.5 = 2d + 0.5: weights 1024/1024 both ways, so (a + b + c + d + 2) >> 2:
    // 0+1+2+3 = 6 -> 2 (1.5); 0+3+4+3 = 10 -> 3 (2.5); 255+255+255+254 -> 255 (254.75); 9+9+9+10 -> 9 (9.25)
    const out = resizeBilinear(grey([[0, 1, 0, 3], [2, 3, 4, 3], [255, 255, 9, 9], [255, 254, 9, 10]]), 2, 2);
    expect(rowsOf(out)).toEqual([
      [2, 3],
      [255, 9],
    ]);
  });

  it('2x3 -> 3x2: float32 coordinates and rounded 11-bit weights', () => {
    // x: scale 1.5: dx0 f=0.25 -> 1536/512 on 0,1; dx1 f=1.75 -> 512/1536 on 1,2.
    //   rows [10,20,30] -> 25600, 56320; [40,50,60] -> 87040, 117760.
    // y: scale 2/3: dy0 f=-1/6 -> rows 0,0, weights round(0.1667*2048)=341 / round(0.8333*2048)=1707;
    //   dy1 f=0.5 -> rows 0,1, 1024/1024; dy2 f=1.1667 -> rows 1,1, 1707/341.
    // dy0 dx0: (1600*341>>16 = 8) + (1600*1707>>16 = 41) = 49 -> 12; dy2 dx1: 191 + 38 = 229 -> 57
    const out = resizeBilinear(grey([[10, 20, 30], [40, 50, 60]]), 3, 2);
    expect(rowsOf(out)).toEqual([
      [12, 27],
      [28, 43],
      [42, 57],
    ]);
  });

  it('equals cv2.resize on a noise image (fixture made with OpenCV 4.6)', () => {
    const png = PNG.sync.read(readFileSync(new URL('../../../../test/fixtures/data/images/noise_9x11.png', import.meta.url)));
    const expected = parseNpy(new Uint8Array(readFileSync(new URL('../../../../test/fixtures/data/images/noise_9x11_resized_7x3.npy', import.meta.url))), 'x.npy');
    expect(expected.dims).toEqual([7, 3, 3]); // HWC, BGR
    const out = resizeBilinear({ width: png.width, height: png.height, data: png.data }, 7, 3);
    const bgr = Array.from({ length: 7 * 3 }, (_, p) => [out.data[p * 4 + 2], out.data[p * 4 + 1], out.data[p * 4]]).flat();
    expect(bgr).toEqual([...expected.data]);
  });

  it('returns a copy at the same size', () => {
    const image = grey([[1, 2]]);
    const out = resizeBilinear(image, 1, 2);
    expect(out.data).toEqual(image.data);
    expect(out.data).not.toBe(image.data);
  });
});

describe('centerCrop', () => {
  it("starts at floor(size / 2) - floor(crop / 2), as TPU-MLIR's __center_crop does", () => {
    const six = grey(Array.from({ length: 6 }, (_, y) => Array.from({ length: 6 }, (_, x) => y * 10 + x)));
    // 6 // 2 - 3 // 2 = 2 (not (6 - 3) // 2 = 1)
    expect(rowsOf(centerCrop(six, 3, 3))).toEqual([
      [22, 23, 24],
      [32, 33, 34],
      [42, 43, 44],
    ]);
    expect(rowsOf(centerCrop(six, 2, 4))).toEqual([
      [21, 22, 23, 24],
      [31, 32, 33, 34],
    ]);
  });
});
