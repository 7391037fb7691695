import { FormatError } from '../errors';
import { parseJsonText } from '../io/jsonText';
import { PRECISIONS, type Precision } from '../model/QTable';
import { RULE_KINDS, ruleError, type Rule, type RuleKind, type RuleList } from './rules';

/**
 * The rules file (`qbench --rules file`, the page's "Save rules"/"Open rules"): JSON,
 * `{ "qbench_rules": 1, "rules": [{ "kind": "op", "value": "Softmax", "precision": "FP32" }, …] }`,
 * or the bare list. Rules apply in file order, the later winning. Precisions are qbench's names
 * (INT8, INT16, FP16, FP32…), also TPU-MLIR's modes (F32, F16) since users paste them from qtables.
 */

const ALIASES: Readonly<Record<string, Precision>> = { F32: 'FP32', F16: 'FP16' };

export function formatRules(rules: RuleList): string {
  const plain = rules.map((r) => ({ kind: r.kind, value: r.value, precision: r.precision, ...(r.enabled === false ? { enabled: false } : {}) }));
  return `${JSON.stringify({ qbench_rules: 1, rules: plain }, null, 2)}\n`;
}

/** Reads a rules file; every rule is checked, and the first malformed one is refused by its index and what is wrong. */
export function parseRules(text: string, fileName: string): Rule[] {
  const data = parseJsonText(text, fileName, 'a qbench rules file');
  const list = Array.isArray(data) ? data : (data as { rules?: unknown } | null)?.rules;
  if (!Array.isArray(list)) throw new FormatError(fileName, 'expected a qbench rules file: {"rules": [{"kind": "op", "value": "Softmax", "precision": "FP32"}, …]} or the list itself');
  return rulesFromList(list, fileName);
}

/** Checks an already parsed list of rules (a rules file's, a session file's); `path` names it in the messages. */
export function rulesFromList(list: readonly unknown[], fileName: string, path = 'rules'): Rule[] {
  return list.map((item: unknown, index): Rule => {
    const where = `${path}[${index}]`;
    if (typeof item !== 'object' || item === null) throw new FormatError(fileName, `${where}: expected an object with kind, value and precision`);
    const { kind, value, precision, enabled } = item as Record<string, unknown>;
    if (typeof kind !== 'string' || !RULE_KINDS.includes(kind as RuleKind)) throw new FormatError(fileName, `${where}: kind is one of ${RULE_KINDS.join(', ')}, found ${JSON.stringify(kind)}`);
    if (typeof value !== 'string' && typeof value !== 'number') throw new FormatError(fileName, `${where}: value is text (or a count for first/last), found ${JSON.stringify(value)}`);
    const upper = typeof precision === 'string' ? precision.toUpperCase() : '';
    const p = ALIASES[upper] ?? (PRECISIONS.includes(upper as Precision) ? (upper as Precision) : undefined);
    if (!p) throw new FormatError(fileName, `${where}: precision is one of ${PRECISIONS.join(', ')}, found ${JSON.stringify(precision)}`);
    const rule: Rule = { kind: kind as RuleKind, value: String(value), precision: p, ...(enabled === false ? { enabled: false } : {}) };
    const error = ruleError(rule);
    if (error) throw new FormatError(fileName, `${where} (${kind} ${JSON.stringify(String(value))}): ${error}`);
    return rule;
  });
}
