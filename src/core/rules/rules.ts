import type { GraphNode, LayerName } from '../model/ModelGraph';
import { EDITABLE_PRECISIONS, PRECISIONS, type Precision, type QTable } from '../model/QTable';
import { regexPattern } from './namePattern';

/**
 * Precision rules (issue #13 item 2): an ordered list, each picking layers and giving them a
 * precision; a later rule wins over an earlier one, and a layer the user set by hand keeps what he
 * set (reapplyRules). Pure: the page, the CLI's `--rules` and the session file share it.
 */

/**
 * What a rule picks: `op` op types (comma-separated, case-insensitive), `name` a regular expression
 * over the layer's name and the names of the tensors it writes, `scope` a name prefix (`/model.22/`,
 * or an If branch's scope), `first`/`last` the first or last N quantizable layers in graph order.
 */
export type RuleKind = 'op' | 'name' | 'scope' | 'first' | 'last';

export const RULE_KINDS: readonly RuleKind[] = ['op', 'name', 'scope', 'first', 'last'];

export interface Rule {
  readonly kind: RuleKind;
  /** The op types, the pattern, the prefix, or N (as text: it is what the user typed). */
  readonly value: string;
  readonly precision: Precision;
  /** A rule switched off stays in the list and picks nothing (absent: on). */
  readonly enabled?: boolean;
}

export type RuleList = readonly Rule[];

export const NO_RULES: RuleList = [];

/** What a rule needs to know of a layer. */
export interface RuleLayer {
  readonly name: LayerName;
  readonly opType: string;
  /** The tensors the layer writes: a name rule matches them too (onnxruntime's overrides name tensors). */
  readonly outputs: readonly string[];
  /** Where a layer inside an If or Loop body sits (`If_0/then_branch`). */
  readonly scope?: string;
  /** Only quantizable layers take a rule's precision (and only they count for first/last N). */
  readonly quantizable: boolean;
}

/** The graph's nodes as rules see them, in graph order. */
export function ruleLayersOf(nodes: readonly GraphNode[], isQuantizable: (layer: LayerName) => boolean): RuleLayer[] {
  return nodes.map((n) => ({ name: n.name, opType: n.opType, outputs: n.outputs, scope: n.scope, quantizable: isQuantizable(n.name) }));
}

/** Why a rule picks nothing as written, or null when it is well formed. */
export function ruleError(rule: Rule): string | null {
  if (!PRECISIONS.includes(rule.precision)) return `unknown precision "${rule.precision}"`;
  if (!RULE_KINDS.includes(rule.kind)) return `unknown rule kind "${rule.kind}"`;
  const value = rule.value.trim();
  if (rule.kind === 'first' || rule.kind === 'last') return /^\d+$/.test(value) ? null : `"${rule.value}" is not a layer count`;
  if (!value) return rule.kind === 'op' ? 'no op type given' : rule.kind === 'scope' ? 'no prefix given' : 'no pattern given';
  if (rule.kind === 'name') return regexPattern(value).error ?? null;
  return null;
}

/** A test of one layer for one rule; null when the rule picks nothing (off or malformed). */
function layerTest(rule: Rule, layers: readonly RuleLayer[]): ((layer: RuleLayer, position: number) => boolean) | null {
  if (rule.enabled === false || ruleError(rule) !== null) return null;
  const value = rule.value.trim();
  switch (rule.kind) {
    case 'op': {
      const ops = new Set(value.split(',').map((o) => o.trim().toLowerCase()).filter(Boolean));
      return (layer) => ops.has(layer.opType.toLowerCase());
    }
    case 'name': {
      const test = regexPattern(value).test!;
      return (layer) => test(layer.name) || layer.outputs.some((t) => t !== '' && test(t));
    }
    case 'scope':
      return (layer) => layer.name.startsWith(value) || (layer.scope !== undefined && `${layer.scope}/`.startsWith(value)) || layer.outputs.some((t) => t.startsWith(value));
    case 'first': {
      const n = Number(value);
      return (_, position) => position < n;
    }
    case 'last': {
      const n = Number(value);
      const total = layers.filter((l) => l.quantizable).length;
      return (_, position) => position >= total - n;
    }
  }
}

/**
 * The precision each rule gives, the last matching rule winning; layers no rule picks are absent.
 * Linear in layers x rules (a 2,000-layer model with a dozen rules takes a few milliseconds).
 */
export function ruleOutcome(rules: RuleList, layers: readonly RuleLayer[]): Map<LayerName, Precision> {
  const outcome = new Map<LayerName, Precision>();
  const tests = rules.map((rule) => ({ rule, test: layerTest(rule, layers) })).filter((r) => r.test !== null);
  if (tests.length === 0) return outcome;
  let position = 0;
  for (const layer of layers) {
    if (!layer.quantizable) continue;
    for (const { rule, test } of tests) if (test!(layer, position)) outcome.set(layer.name, rule.precision);
    position++;
  }
  return outcome;
}

/** The layers a single rule picks (the rule list's "matches N layers"). */
export function ruleMatches(rule: Rule, layers: readonly RuleLayer[]): LayerName[] {
  return [...ruleOutcome([{ ...rule, enabled: true }], layers).keys()];
}

/**
 * The QTable after the rules changed from `before` to `after`: a layer whose precision differs from
 * what `before` gave it was set by hand (or by a search, an import) and keeps it; every other layer
 * takes what `after` gives, or the default. Telling hand edits apart this way needs no record of
 * them besides the QTable, so undo (which restores QTable and rules together) stays exact.
 */
export function reapplyRules(qtable: QTable, before: RuleList, after: RuleList, layers: readonly RuleLayer[]): QTable {
  const was = ruleOutcome(before, layers);
  const now = ruleOutcome(after, layers);
  const next = new Map(qtable.layers);
  for (const layer of layers) {
    if (!layer.quantizable) continue;
    const current = qtable.layers.get(layer.name) ?? qtable.defaultPrecision;
    const byHand = current !== (was.get(layer.name) ?? qtable.defaultPrecision);
    const precision = byHand ? current : now.get(layer.name) ?? qtable.defaultPrecision;
    if (precision === qtable.defaultPrecision) next.delete(layer.name);
    else next.set(layer.name, precision);
  }
  return { defaultPrecision: qtable.defaultPrecision, layers: next };
}

/** The QTable with every hand edit dropped: each layer at what the rules give, or the default ("reset every override"). */
export function rulesOnly(qtable: QTable, rules: RuleList, layers: readonly RuleLayer[]): QTable {
  const outcome = ruleOutcome(rules, layers);
  const next = new Map<LayerName, Precision>();
  for (const [layer, precision] of outcome) if (precision !== qtable.defaultPrecision) next.set(layer, precision);
  return { defaultPrecision: qtable.defaultPrecision, layers: next };
}

/** A QTable with many layers set at once (a bulk edit); the same table when nothing changes. */
export function withPrecisions(qtable: QTable, layers: Iterable<LayerName>, precision: Precision): QTable {
  let next: Map<LayerName, Precision> | null = null;
  for (const layer of layers) {
    if ((qtable.layers.get(layer) ?? qtable.defaultPrecision) === precision) continue;
    next ??= new Map(qtable.layers);
    if (precision === qtable.defaultPrecision) next.delete(layer);
    else next.set(layer, precision);
  }
  return next ? { defaultPrecision: qtable.defaultPrecision, layers: next } : qtable;
}

export function sameRules(a: RuleList, b: RuleList): boolean {
  return a.length === b.length && a.every((r, i) => r.kind === b[i].kind && r.value === b[i].value && r.precision === b[i].precision && (r.enabled !== false) === (b[i].enabled !== false));
}

/** The precisions a rule offers in the page (those a layer can be set to). */
export const RULE_PRECISIONS = EDITABLE_PRECISIONS;
