/** Waits the benchmarks share in the page. */
import type { Page } from '@playwright/test';
import type { AppState } from '../src/state/store';

/** The page has calibrated and evaluated every layer, and no job runs. */
export function calibratedAndIdle(page: Page, timeout = 900_000): Promise<unknown> {
  return page.waitForFunction(() => {
    const s = (globalThis as unknown as { qbenchState: () => AppState }).qbenchState();
    return s.calibration !== null && s.layerEvaluation !== null && Object.keys(s.jobs).length === 0;
  }, undefined, { timeout });
}
