import { useMemo, useRef, useState } from 'react';
import { naturalCompare } from '../../core/naturalSort';
import { RULE_KINDS, RULE_PRECISIONS, ruleError, ruleMatches, ruleOutcome, type Rule, type RuleKind } from '../../core/rules/rules';
import type { Precision } from '../../core/model/QTable';
import { exportRules, importRules, ruleLayers, setRules } from '../../state/ruleActions';
import { useApp } from '../../state/store';
import { download } from '../download';
import './RulesPanel.css';

const KIND_LABEL: Record<RuleKind, string> = { op: 'Op type', name: 'Name regex', scope: 'Scope prefix', first: 'First N', last: 'Last N' };
const PLACEHOLDER: Record<RuleKind, string> = { op: 'Softmax or Conv,Gemm', name: 'Conv\\.4\\d$ (layer or tensor name)', scope: '/model.22/', first: '3', last: '3' };

/**
 * The precision rules, in order (a later rule wins; hand edits stay on top): each change is applied
 * at once as one undoable edit and evaluated. A rule's text is applied on Enter or when the field is
 * left, so typing a pattern is not a dozen edits; its match count follows every keystroke.
 */
export function RulesPanel() {
  const rules = useApp((s) => s.rules);
  const model = useApp((s) => s.model);
  const layers = useMemo(() => ruleLayers(model), [model]);
  const ops = useMemo(() => [...new Set(layers.filter((l) => l.quantizable).map((l) => l.opType))].sort(naturalCompare), [layers]);
  const covered = useMemo(() => ruleOutcome(rules, layers).size, [rules, layers]);
  const picker = useRef<HTMLInputElement>(null);
  const replace = (index: number, rule: Rule | null) => setRules(rule ? rules.map((r, i) => (i === index ? rule : r)) : rules.filter((_, i) => i !== index));
  const move = (index: number, by: number) => {
    const next = [...rules];
    const [rule] = next.splice(index, 1);
    next.splice(index + by, 0, rule);
    setRules(next);
  };
  return (
    <div className="rules-panel" data-testid="rules-panel">
      <div className="rules-head">
        <b>Rules</b>
        <span className="muted">applied in order, the later winning; a layer you set by hand keeps its precision. {rules.length ? <span data-testid="rules-covered">{covered} layers set by rules.</span> : null}</span>
        <span className="rules-actions">
          <button className="btn small" onClick={() => setRules([...rules, { kind: 'op', value: '', precision: 'FP32' }])} data-testid="rule-add">+ Rule</button>
          <button className="btn small" onClick={() => download(exportRules())} disabled={rules.length === 0} data-testid="rules-save">Save rules</button>
          <button className="btn small" onClick={() => picker.current?.click()} data-testid="rules-open">Open rules</button>
          <input ref={picker} type="file" accept=".json,application/json" hidden data-testid="rules-file" onChange={(e) => { const f = e.target.files?.[0]; e.target.value = ''; if (f) void importRules(f); }} />
        </span>
      </div>
      <datalist id="rule-ops">{ops.map((op) => <option key={op} value={op} />)}</datalist>
      {rules.length === 0 ? <p className="muted rules-empty">No rule. Add one: every Softmax at FP32, <code>/model.22/</code> at INT16, the first 2 layers at FP16…</p> : null}
      <ol className="rules-list">
        {rules.map((rule, index) => (
          <RuleRow key={`${index}:${rule.kind}:${rule.value}:${rule.precision}:${rule.enabled !== false}`} rule={rule} index={index} count={rules.length}
            onChange={(r) => replace(index, r)} onMove={(by) => move(index, by)} />
        ))}
      </ol>
    </div>
  );
}

function RuleRow({ rule, index, count, onChange, onMove }: { rule: Rule; index: number; count: number; onChange: (rule: Rule | null) => void; onMove: (by: number) => void }) {
  const [value, setValue] = useState(rule.value);
  const draft: Rule = { ...rule, value };
  const error = ruleError(draft);
  // every keystroke: how many layers the text as typed would pick
  const matches = useMemo(() => {
    const typed: Rule = { ...rule, value };
    return ruleError(typed) ? [] : ruleMatches(typed, ruleLayers());
  }, [rule, value]);
  const commit = () => {
    if (value !== rule.value) onChange(draft);
  };
  return (
    <li className={`rule${rule.enabled === false ? ' off' : ''}`} data-testid="rule" data-index={index}>
      <input type="checkbox" checked={rule.enabled !== false} onChange={(e) => onChange({ ...rule, enabled: e.target.checked ? undefined : false })} aria-label="Rule on" data-testid="rule-enabled" />
      <select value={rule.kind} onChange={(e) => onChange({ ...draft, kind: e.target.value as RuleKind })} data-testid="rule-kind" aria-label="What the rule picks">
        {RULE_KINDS.map((k) => <option key={k} value={k}>{KIND_LABEL[k]}</option>)}
      </select>
      <input className={`input rule-value${error && value ? ' invalid' : ''}`} value={value} placeholder={PLACEHOLDER[rule.kind]} list={rule.kind === 'op' ? 'rule-ops' : undefined}
        onChange={(e) => setValue(e.target.value)} onBlur={commit} onKeyDown={(e) => e.key === 'Enter' && commit()} data-testid="rule-value" aria-label="Rule value" title={error ?? undefined} />
      <span>→</span>
      <select className={`p-${rule.precision}`} value={rule.precision} onChange={(e) => onChange({ ...draft, precision: e.target.value as Precision })} data-testid="rule-precision" aria-label="Precision the rule gives">
        {RULE_PRECISIONS.map((p) => <option key={p} value={p}>{p}</option>)}
      </select>
      <span className={`rule-count${error ? ' invalid' : ''}`} data-testid="rule-matches" data-count={matches.length} title={error ?? matches.slice(0, 20).join('\n')}>
        {error ? (value ? error : '') : `${matches.length} layer${matches.length === 1 ? '' : 's'}${value !== rule.value ? ' (Enter applies)' : ''}`}
      </span>
      <span className="rule-buttons">
        <button className="btn small" disabled={index === 0} onClick={() => onMove(-1)} aria-label="Earlier" title="Earlier (a later rule wins)">↑</button>
        <button className="btn small" disabled={index === count - 1} onClick={() => onMove(1)} aria-label="Later" title="Later (a later rule wins)">↓</button>
        <button className="btn small" onClick={() => onChange(null)} aria-label="Remove rule" data-testid="rule-remove">×</button>
      </span>
    </li>
  );
}
