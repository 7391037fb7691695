import { FormatError } from '../../errors';
import { bodyNodes, bodies, isControlFlow } from './ifBodies';
import { AttributeType, DataType, onnx } from './protobuf';

/**
 * Puts a freshly decoded model in the one shape every later pass assumes:
 * - weights are initializers: Constant nodes holding tensors become initializers (PaddleOCR and
 *   many exporters store every weight as a Constant), and initializers listed as graph inputs
 *   (IR < 4 exporters) are no longer inputs;
 * - every main-graph node has a unique, stable name (unnamed: `<first output>_<op type>`, as
 *   TPU-MLIR names ops), used by the qtable, the heatmap and every export;
 * - nodes are in topological order.
 * Mutates and returns `model`.
 */
export function normalizeModel(model: onnx.ModelProto, fileName: string): onnx.ModelProto {
  const graph = model.graph;
  if (!graph) throw new FormatError(fileName, 'the model has no graph');
  constantsToInitializers(graph);
  uniquifyBranchTensors(graph, allMainNames(graph));
  hoistIfBranchConstants(graph, graph);
  const initializerNames = new Set(graph.initializer.map((t) => t.name));
  graph.input = graph.input.filter((input) => !initializerNames.has(input.name));
  nameNodes(graph);
  graph.node = topologicalOrder(graph, fileName);
  return model;
}

/**
 * The weights of layers inside If branches become main-graph initializers (a branch reads the
 * enclosing graph's tensors by name), so they are weights like any other: quantized per channel,
 * shown, exported. Constant nodes and initializers of the branches move up, unless their name is
 * taken in the main graph. Loop and Scan bodies are left as they are.
 */
function hoistIfBranchConstants(main: onnx.GraphProto, graph: onnx.IGraphProto, taken = allNames(main)): void {
  for (const node of graph.node ?? []) {
    if (!isControlFlow(node)) continue;
    for (const { graph: body } of bodies(node)) {
      // Sibling branches may use the same constant names (each is its own scope): a name already
      // taken is renamed inside this branch before it moves up.
      const renamed = new Map<string, string>();
      const unique = (name: string) => {
        let fresh = name;
        for (let k = 2; taken.has(fresh); k++) fresh = `${name}_${k}`;
        taken.add(fresh);
        if (fresh !== name) renamed.set(name, fresh);
        return fresh;
      };
      const kept: onnx.INodeProto[] = [];
      for (const child of body.node ?? []) {
        const tensor = child.opType === 'Constant' && (!child.domain || child.domain === 'ai.onnx') ? constantTensor(child as onnx.NodeProto) : undefined;
        const name = child.output?.[0];
        if (tensor && name && child.output!.length === 1) {
          tensor.name = unique(name);
          main.initializer.push(tensor);
        } else {
          kept.push(child);
        }
      }
      body.node = kept;
      for (const init of body.initializer ?? []) if (init.name) main.initializer.push(onnx.TensorProto.create({ ...init, name: unique(init.name) }));
      body.initializer = [];
      if (renamed.size) renameReads(body, renamed);
      hoistIfBranchConstants(main, body, taken);
    }
  }
}

function allMainNames(graph: onnx.IGraphProto): Set<string> {
  return new Set<string>([...(graph.initializer ?? []).map((t) => t.name ?? ''), ...(graph.input ?? []).map((i) => i.name ?? ''), ...(graph.node ?? []).flatMap((n) => n.output ?? [])]);
}

/**
 * Tensors made inside If branches get names unique in the whole model: sibling branches may reuse
 * a name (each is its own scope), but qbench addresses a tensor by its name alone (ranges, errors,
 * exports). A clashing name is renamed inside its branch.
 */
function uniquifyBranchTensors(graph: onnx.IGraphProto, taken: Set<string>): void {
  for (const node of graph.node ?? []) {
    if (!isControlFlow(node)) continue;
    for (const { graph: body } of bodies(node)) {
      const renamed = new Map<string, string>();
      for (const input of body.input ?? []) {
        const name = input.name ?? '';
        let fresh = name;
        for (let k = 2; taken.has(fresh); k++) fresh = `${name}_${k}`;
        taken.add(fresh);
        if (fresh !== name) {
          renamed.set(name, fresh);
          input.name = fresh;
        }
      }
      for (const child of body.node ?? []) {
        child.output = (child.output ?? []).map((o) => {
          if (!o) return o;
          let fresh = o;
          for (let k = 2; taken.has(fresh); k++) fresh = `${o}_${k}`;
          taken.add(fresh);
          if (fresh !== o) renamed.set(o, fresh);
          return fresh;
        });
      }
      if (renamed.size) renameReads(body, renamed);
      uniquifyBranchTensors(body, taken);
    }
  }
}

function allNames(graph: onnx.IGraphProto): Set<string> {
  const names = new Set<string>([...(graph.initializer ?? []).map((t) => t.name ?? ''), ...(graph.input ?? []).map((i) => i.name ?? '')]);
  for (const node of graph.node ?? []) {
    for (const o of node.output ?? []) names.add(o);
    for (const a of node.attribute ?? []) for (const g of [a.g, ...(a.graphs ?? [])]) if (g) for (const n of allNames(g)) names.add(n);
  }
  return names;
}

/** Renames what a graph (and the graphs inside it) reads. */
function renameReads(graph: onnx.IGraphProto, renamed: ReadonlyMap<string, string>): void {
  for (const node of graph.node ?? []) {
    node.input = (node.input ?? []).map((i) => renamed.get(i) ?? i);
    for (const a of node.attribute ?? []) for (const g of [a.g, ...(a.graphs ?? [])]) if (g) renameReads(g, renamed);
  }
  for (const o of graph.output ?? []) if (o.name && renamed.has(o.name)) o.name = renamed.get(o.name)!;
}

function constantsToInitializers(graph: onnx.GraphProto): void {
  const kept: onnx.NodeProto[] = [];
  for (const node of graph.node) {
    const tensor = node.opType === 'Constant' && (node.domain === '' || node.domain === 'ai.onnx') ? constantTensor(node) : undefined;
    if (tensor && node.output.length === 1 && node.output[0]) {
      tensor.name = node.output[0];
      graph.initializer.push(tensor);
    } else {
      kept.push(node);
    }
  }
  graph.node = kept;
}

function constantTensor(node: onnx.NodeProto): onnx.TensorProto | undefined {
  const attr = node.attribute[0];
  if (!attr || node.attribute.length !== 1) return undefined;
  switch (attr.name) {
    case 'value':
      return attr.type === AttributeType.TENSOR && attr.t ? onnx.TensorProto.create(attr.t) : undefined;
    case 'value_float':
      return onnx.TensorProto.create({ dims: [], dataType: DataType.FLOAT, floatData: [attr.f] });
    case 'value_floats':
      return onnx.TensorProto.create({ dims: [attr.floats.length], dataType: DataType.FLOAT, floatData: [...attr.floats] });
    case 'value_int':
      return onnx.TensorProto.create({ dims: [], dataType: DataType.INT64, int64Data: [attr.i] });
    case 'value_ints':
      return onnx.TensorProto.create({ dims: [attr.ints.length], dataType: DataType.INT64, int64Data: [...attr.ints] });
    default:
      return undefined; // sparse and string constants stay nodes
  }
}

function nameNodes(graph: onnx.GraphProto): void {
  const taken = new Set<string>();
  const unique = (base: string) => {
    let name = base;
    for (let k = 2; taken.has(name); k++) name = `${base}_${k}`;
    taken.add(name);
    return name;
  };
  // Named nodes keep their names (first come first served); unnamed ones are derived after,
  // so a derived name never steals a name the model chose.
  // Nodes inside If branches are layers too: one name space for the main graph and every branch.
  const all = [...graph.node, ...bodyNodes(graph).map((s) => s.node)];
  for (const node of all) if (node.name) node.name = unique(node.name);
  for (const node of all) {
    if (!node.name) node.name = unique(`${node.output.find((o) => o) ?? node.opType}_${node.opType}`);
  }
}

function topologicalOrder(graph: onnx.GraphProto, fileName: string): onnx.NodeProto[] {
  const producer = new Map<string, number>();
  graph.node.forEach((node, i) => node.output.forEach((o) => o && producer.set(o, i)));
  const outerNames = outerReferences(graph);
  const pending = graph.node.map((node, i) => {
    const deps = new Set<number>();
    for (const input of [...node.input, ...(outerNames.get(node) ?? [])]) {
      const p = input ? producer.get(input) : undefined;
      if (p !== undefined && p !== i) deps.add(p);
    }
    return deps;
  });
  const dependents = graph.node.map(() => [] as number[]);
  pending.forEach((deps, i) => deps.forEach((d) => dependents[d].push(i)));
  const remaining = pending.map((deps) => deps.size);
  const ready = remaining.flatMap((count, i) => (count === 0 ? [i] : []));
  const order: onnx.NodeProto[] = [];
  // Keep the file's order wherever it is already valid: pop the smallest ready index.
  while (ready.length > 0) {
    ready.sort((a, b) => b - a);
    const i = ready.pop()!;
    order.push(graph.node[i]);
    for (const j of dependents[i]) if (--remaining[j] === 0) ready.push(j);
  }
  if (order.length !== graph.node.length) {
    const stuck = graph.node.filter((_, i) => remaining[i] > 0).slice(0, 3).map((n) => n.name);
    throw new FormatError(fileName, `the graph has a cycle (around ${stuck.join(', ')}); ONNX graphs must be acyclic`);
  }
  return order;
}

/** Tensors of the outer graph that a node's subgraphs (If/Loop/Scan bodies) read. */
function outerReferences(graph: onnx.GraphProto): Map<onnx.NodeProto, string[]> {
  const refs = new Map<onnx.NodeProto, string[]>();
  for (const node of graph.node) {
    const names: string[] = [];
    for (const attr of node.attribute) {
      for (const sub of [attr.g, ...(attr.graphs ?? [])]) if (sub) collectInputs(sub, names);
    }
    if (names.length) refs.set(node, names);
  }
  return refs;
}

function collectInputs(graph: onnx.IGraphProto, out: string[]): void {
  for (const node of graph.node ?? []) {
    for (const input of node.input ?? []) if (input) out.push(input);
    for (const attr of node.attribute ?? []) for (const sub of [attr.g, ...(attr.graphs ?? [])]) if (sub) collectInputs(sub, out);
  }
}
