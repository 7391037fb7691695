/**
 * Colours for the output viewer's maps, computed in the worker (the page only puts the pixels on a
 * canvas). Stops are sampled from matplotlib's viridis and inferno: perceptually even, readable on
 * the page's dark background, and a value map and a difference map never look alike.
 */

export type Rgb = readonly [number, number, number];

const VIRIDIS: readonly Rgb[] = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
const INFERNO: readonly Rgb[] = [[0, 0, 4], [87, 16, 110], [188, 55, 84], [249, 142, 9], [252, 255, 164]];

/** Distinct colours for classes (Tableau 10), class 0 dark: in a segmentation map it is mostly the background. */
const CLASSES: readonly Rgb[] = [[40, 44, 52], [78, 121, 167], [242, 142, 43], [225, 87, 89], [118, 183, 178], [89, 161, 79], [237, 201, 72], [176, 122, 161], [255, 157, 167], [156, 117, 95], [186, 176, 172]];

function ramp(stops: readonly Rgb[], t: number): Rgb {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  const [a, b] = [stops[i], stops[i + 1]];
  return [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f];
}

/** A value in [0, 1] as viridis. */
export const valueColour = (t: number): Rgb => ramp(VIRIDIS, t);

/** A difference in [0, 1] (of the largest) as inferno: black where the two agree. */
export const differenceColour = (t: number): Rgb => ramp(INFERNO, t);

/** The colour of class `c` (classes past the palette repeat it). */
export const classColour = (c: number): Rgb => (c === 0 ? CLASSES[0] : CLASSES[1 + ((c - 1) % (CLASSES.length - 1))]);
