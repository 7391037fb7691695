import { cancelJob } from '../state/actions';
import { useApp } from '../state/store';
import { formatDuration } from './format';

/** Progress of every running job with an estimate of the time left and a cancel button. */
export function JobBar() {
  const jobs = useApp((s) => s.jobs);
  const list = Object.values(jobs);
  if (list.length === 0) return <div className="job-bar empty" />;
  return (
    <div className="job-bar">
      {list.map((job) => {
        const p = job.progress;
        const fraction = p && p.total > 0 ? p.done / p.total : 0;
        const elapsed = performance.now() - job.startedAt;
        const left = p && p.done > 0 && p.done < p.total ? (elapsed / p.done) * (p.total - p.done) : undefined;
        return (
          <div className="job" key={job.id} data-testid="job-progress">
            <span className="job-label">{job.label}</span>
            <div className="progress"><div className="progress-fill" style={{ width: `${Math.round(fraction * 100)}%` }} /></div>
            <span className="job-count">{p ? (p.total > 1000 ? `${Math.floor(fraction * 100)}%` : `${p.done}/${p.total}`) : '…'}{left !== undefined ? ` · ${formatDuration(left)} left` : ''}</span>
            <button className="btn small" data-testid="job-cancel" onClick={() => cancelJob(job.id)}>Cancel</button>
          </div>
        );
      })}
    </div>
  );
}
