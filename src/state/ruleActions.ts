import { errorMessage } from '../core/errors';
import { formatOrtQuantConfig, ortQuantConfig, parseOrtQuantConfig } from '../core/io/ortOverrides';
import type { LayerName } from '../core/model/ModelGraph';
import type { Precision } from '../core/model/QTable';
import { qtableLayer } from '../core/quant/layerInfo';
import { formatRules, parseRules } from '../core/rules/rulesFile';
import { reapplyRules, ruleLayersOf, rulesOnly, withPrecisions, type RuleLayer, type RuleList } from '../core/rules/rules';
import type { ModelSummary } from '../../workers/client';
import { edited, type OutputFile } from './actions';
import { useApp } from './store';

/**
 * Bulk edits and precision rules (issue #13 item 2). Each is ONE edit of the undo list (QTable and
 * rules together), evaluated once. The rules live in the store; the QTable always holds what they
 * give, with the hand edits on top (core/rules/rules.ts reapplyRules).
 */

const app = () => useApp.getState();

const layerCache = new WeakMap<ModelSummary, RuleLayer[]>();

/** The open model's layers as rules see them (computed once per model). */
export function ruleLayers(model: ModelSummary | null = app().model): readonly RuleLayer[] {
  if (!model) return [];
  let layers = layerCache.get(model);
  if (!layers) {
    // a node a .tflite conversion added has no QTable entry of its own (its operator's sets it)
    const quantizable = new Set(model.layers.filter((l) => l.quantizable && qtableLayer(l) === l.name).map((l) => l.name));
    layers = ruleLayersOf(model.graph.nodes, (name) => quantizable.has(name));
    layerCache.set(model, layers);
  }
  return layers;
}

/** An edit of the QTable and/or rules; evaluated when something changed. */
function commit(next: Parameters<ReturnType<typeof app>['applyEdit']>[0]): boolean {
  const before = app().past.length;
  app().applyEdit(next);
  const changed = app().past.length !== before;
  if (changed) edited();
  return changed;
}

/** Many layers to one precision ("Set selection to FP32"); the layers that cannot be quantized are left out. */
export function setPrecisions(layers: readonly LayerName[], precision: Precision): void {
  const byName = new Map((app().model?.layers ?? []).map((l) => [l.name, l]));
  const targets = new Set<LayerName>();
  let skipped = 0;
  for (const name of layers) {
    const layer = byName.get(name);
    if (layer?.quantizable) targets.add(qtableLayer(layer));
    else skipped++;
  }
  commit({ qtable: withPrecisions(app().qtable, targets, precision) });
  if (skipped > 0) {
    const one = layers.length === 1 ? byName.get(layers[0]) : undefined;
    app().notify('info', one ? `${one.name} is not quantizable${one.reason ? `: ${one.reason}` : ''}; it runs as in the model.` : `${skipped} selected layer${skipped === 1 ? ' is' : 's are'} not quantizable and kept as in the model.`);
  }
}

/** The rules replaced by `rules` (added, edited, moved, switched, removed): the QTable follows, hand edits kept. */
export function setRules(rules: RuleList): void {
  const { qtable, rules: before } = app();
  commit({ rules, qtable: reapplyRules(qtable, before, rules, ruleLayers()) });
}

/** "Reset every override": every hand-set precision goes; each layer takes what the rules give, or the default. */
export function resetPrecisions(): void {
  const count = app().qtable.layers.size;
  if (commit({ qtable: rulesOnly(app().qtable, app().rules, ruleLayers()) })) {
    app().notify('info', `Precisions reset${app().rules.length ? ' to what the rules give' : ` to ${app().qtable.defaultPrecision}`} (${count} layer${count === 1 ? '' : 's'} were set); Undo (Ctrl+Z) puts them back.`);
  }
}

function baseName(): string {
  return (app().model?.graph.fileName ?? 'model').replace(/\.(onnx|tflite|circle)$/i, '');
}

export function exportRules(): OutputFile {
  return { fileName: `${baseName()}.rules.json`, data: formatRules(app().rules), type: 'application/json' };
}

/** A rules file replaces the rules (one edit). */
export async function importRules(file: File): Promise<void> {
  try {
    const rules = parseRules(await file.text(), file.name);
    setRules(rules);
    app().notify('info', `${file.name}: ${rules.length} rule${rules.length === 1 ? '' : 's'} applied.`);
  } catch (error) {
    app().notify('error', errorMessage(error));
  }
}

/** The QTable as onnxruntime's quantize_static arguments: nodes_to_exclude and TensorQuantOverrides. */
export function exportOrtConfig(): OutputFile | undefined {
  const model = app().model;
  if (!model) return undefined;
  const quantizable = new Set(model.layers.filter((l) => l.quantizable).map((l) => l.name));
  const config = ortQuantConfig(app().qtable, model.graph.nodes, quantizable, new Set(model.graph.weights.map((w) => w.name)));
  return { fileName: `${baseName()}.ort_quant.json`, data: formatOrtQuantConfig(config), type: 'application/json' };
}

/** onnxruntime's nodes_to_exclude / TensorQuantOverrides as precisions: one edit, hand edits over the rules. */
export async function importOrtConfig(file: File): Promise<void> {
  const model = app().model;
  if (!model) return;
  try {
    const parsed = parseOrtQuantConfig(await file.text(), file.name, model.graph.nodes);
    commit({ qtable: { defaultPrecision: app().qtable.defaultPrecision, layers: new Map([...app().qtable.layers, ...parsed.table.layers]) } });
    const notes = [
      parsed.unknownNames.length ? `${parsed.unknownNames.length} names not in the model (${parsed.unknownNames.slice(0, 3).join(', ')}${parsed.unknownNames.length > 3 ? ', …' : ''})` : '',
      parsed.ignored.length ? `not taken: ${parsed.ignored.slice(0, 2).join('; ')}${parsed.ignored.length > 2 ? '; …' : ''}` : '',
    ].filter(Boolean).join('; ');
    app().notify('info', `${file.name}: ${parsed.table.layers.size} layer precisions imported${notes ? `; ${notes}` : ''}.`);
  } catch (error) {
    app().notify('error', errorMessage(error));
  }
}
