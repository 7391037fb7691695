import { useEffect, useState } from 'react';
import { DEFAULT_LIMITS, LIMIT_INFO, limitText, parseLimit, type LimitName, type Limits } from '../core/io/limits';
import { useApp } from '../state/store';

/** The limits the page has a setting for (threads: the page uses the cores it has). */
const SETTINGS = (Object.keys(LIMIT_INFO) as LimitName[]).filter((name) => LIMIT_INFO[name].setting !== null);

const toDraft = (limits: Limits) => Object.fromEntries(SETTINGS.map((name) => [name, limitText(name, limits[name])])) as Record<LimitName, string>;

/**
 * What a dropped file may declare before it is refused (issue #12), each the CLI's --max_* flag.
 * A refusal names its setting here; the next model or data read is held to what is applied.
 */
export function LimitsForm() {
  const limits = useApp((s) => s.limits);
  const setLimits = useApp((s) => s.setLimits);
  const [draft, setDraft] = useState(() => toDraft(limits));
  useEffect(() => setDraft(toDraft(limits)), [limits]);
  const parsed = SETTINGS.map((name) => [name, parseLimit(draft[name])] as const);
  const valid = parsed.every(([, value]) => value !== null);
  const submit = () => {
    if (valid) setLimits({ ...limits, ...Object.fromEntries(parsed) });
  };
  return (
    <details className="limits" data-testid="limits">
      <summary className="muted">Limits</summary>
      <form className="preprocess" onSubmit={(e) => { e.preventDefault(); submit(); }}>
        {parsed.map(([name, value]) => (
          <label key={name} title={`${LIMIT_INFO[name].unit} (CLI --${LIMIT_INFO[name].flag}); bytes take K, M, G`}>
            {LIMIT_INFO[name].setting}
            <input className="input" value={draft[name]} onChange={(e) => setDraft({ ...draft, [name]: e.target.value })} aria-invalid={value === null} data-testid={`limit-${name}`} />
          </label>
        ))}
        <button className="btn" type="submit" disabled={!valid} data-testid="limits-apply">Apply to the next file</button>
        <button className="btn" type="button" onClick={() => setLimits(DEFAULT_LIMITS)}>Defaults</button>
      </form>
    </details>
  );
}
