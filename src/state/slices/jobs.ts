import type { StateCreator } from 'zustand';
import type { AppState } from '../store';
import type { JobProgress } from '../../core/jobs/Job';

/** A job on screen: what it is (`kind`, data the components test), what the job bar says, its progress. */
export interface Job {
  readonly id: string;
  /** The worker job's name (workers/jobs.ts), or a finer kind: 'evaluate:outputs', 'evaluate:layers'. */
  readonly kind: string;
  readonly label: string;
  readonly progress: JobProgress | null;
  readonly startedAt: number;
}

export interface JobsSlice {
  jobs: Record<string, Job>;
  /** Jobs started so far: the next job's id. */
  jobCount: number;
  /** Starts a job on screen and returns its id. */
  jobStarted: (kind: string, label: string) => string;
  jobProgressed: (id: string, progress: JobProgress) => void;
  jobEnded: (id: string) => void;
}

/** Whether a job of this kind is running. */
export const isRunning = (jobs: Record<string, Job>, kind: string): boolean => Object.values(jobs).some((j) => j.kind === kind);

export const createJobsSlice: StateCreator<AppState, [], [], JobsSlice> = (set, get) => ({
  jobs: {},
  jobCount: 0,
  jobStarted: (kind, label) => {
    const id = `job-${get().jobCount + 1}`;
    set((s) => ({ jobCount: s.jobCount + 1, jobs: { ...s.jobs, [id]: { id, kind, label, progress: null, startedAt: performance.now() } } }));
    return id;
  },
  jobProgressed: (id, progress) => set((s) => (s.jobs[id] ? { jobs: { ...s.jobs, [id]: { ...s.jobs[id], progress } } } : {})),
  jobEnded: (id) =>
    set((s) => {
      const jobs = { ...s.jobs };
      delete jobs[id];
      return { jobs };
    }),
});
