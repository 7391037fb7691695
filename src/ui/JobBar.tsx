import { useEffect, useState } from 'react';
import { cancelJob } from '../state/actions';
import { useApp } from '../state/store';
import { jobEstimate, useProgressHistory } from './jobEstimate';

/**
 * Progress of every running job with an estimate of the time left and a cancel button. The
 * estimate comes from the recent pace of the current stage (jobEstimate.ts); when there is none
 * to give (no step done yet, a stage past its last step, a step far slower than the others),
 * the bar says what the job is doing and for how long instead of a figure it cannot stand by.
 */
export function JobBar() {
  const jobs = useApp((s) => s.jobs);
  const list = Object.values(jobs);
  const history = useProgressHistory(jobs);
  // Once a second while a job runs: elapsed times and stalled estimates move without progress events.
  const [, tick] = useState(0);
  useEffect(() => {
    if (list.length === 0) return;
    const timer = setInterval(() => tick((n) => n + 1), 1000);
    return () => clearInterval(timer);
  }, [list.length]);
  if (list.length === 0) return <div className="job-bar empty" />;
  const now = performance.now();
  return (
    <div className="job-bar">
      {list.map((job) => {
        const p = job.progress;
        const fraction = p && p.total > 0 ? Math.min(1, p.done / p.total) : 0;
        const estimate = jobEstimate(job, history.get(job.id) ?? [], now);
        const count = p ? (p.total > 1000 ? `${Math.floor(fraction * 100)}%` : `${p.done}/${p.total}`) : '';
        const percent = Math.round(fraction * 100);
        return (
          <div className="job" key={job.id} data-testid="job-progress">
            <span className="job-label" title={job.label}>{job.label}</span>
            <div className={`progress${estimate.kind === 'busy' ? ' busy' : ''}`} role="progressbar" aria-label={job.label}
              aria-valuemin={0} aria-valuemax={100} aria-valuenow={p ? percent : undefined} aria-valuetext={estimate.text ? `${count} ${estimate.text}` : count || 'starting'}>
              <div className="progress-fill" style={{ width: `${percent}%` }} />
            </div>
            <span className="job-count" data-testid="job-estimate" title={estimate.title}>{count}{count && estimate.text ? ' · ' : ''}<span className={estimate.kind === 'busy' ? 'job-stage' : ''}>{estimate.text}</span></span>
            <button className="btn small" data-testid="job-cancel" onClick={() => cancelJob(job.id, { stopNow: true })}>Cancel</button>
          </div>
        );
      })}
    </div>
  );
}
