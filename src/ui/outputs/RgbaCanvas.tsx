import { useEffect, useRef, type ReactNode } from 'react';
import type { RgbaImage } from '../../core/io/dataset/ImageDecoder';

interface Props {
  /** The pixels, or null for a blank canvas of `aspect` (width / height). */
  readonly image: RgbaImage | null;
  readonly aspect?: number;
  /** Height on screen in CSS pixels; the width follows the image's proportions. */
  readonly height: number;
  readonly testId?: string;
  readonly label: string;
  /** Drawn over the picture, filling it (an SVG of boxes). */
  readonly children?: ReactNode;
}

/** An RGBA image the worker computed, put on a canvas as it is (no work on the page but the copy). */
export function RgbaCanvas({ image, aspect = 1, height, testId, label, children }: Props) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const context = ref.current?.getContext('2d');
    if (!context || !image) return;
    const pixels = new ImageData(image.width, image.height);
    pixels.data.set(image.data);
    context.putImageData(pixels, 0, 0);
  }, [image]);
  const width = Math.round(height * (image ? image.width / image.height : aspect));
  return (
    <div className="raster" style={{ width, height }} data-testid={testId}>
      <canvas ref={ref} width={image?.width ?? 1} height={image?.height ?? 1} role="img" aria-label={label} className={image ? '' : 'blank'} />
      {children}
    </div>
  );
}
