/** Short names for long op types, shown big when the view is too far out for names (semantic zoom). */
const SHORT: Record<string, string> = {
  BatchNormalization: 'BN',
  LayerNormalization: 'LN',
  InstanceNormalization: 'IN',
  GroupNormalization: 'GN',
  GlobalAveragePool: 'GAP',
  GlobalMaxPool: 'GMP',
  AveragePool: 'AvgPool',
  ConvTranspose: 'ConvT',
  HardSigmoid: 'HSig',
  HardSwish: 'HSwish',
  ReduceMean: 'Mean',
  DequantizeLinear: 'DQ',
  QuantizeLinear: 'Q',
  DynamicQuantizeLinear: 'DynQ',
  MatMulInteger: 'MMInt',
  ConvInteger: 'ConvInt',
  Unsqueeze: 'Unsq',
  Transpose: 'Transp',
  LeakyRelu: 'LRelu',
};

/** Advance of a character of the far label (24px bold, GraphView.css), in layout units. */
const CHAR = 15;

/**
 * The op type as the far label shows it in a box `width` wide: a known short form, else the op
 * cut to fit. @example farLabel('BatchNormalization', 72) // 'BN'
 */
export function farLabel(opType: string, width: number): string {
  const text = SHORT[opType] ?? opType;
  const fits = Math.max(2, Math.floor((width - 8) / CHAR));
  return text.length <= fits ? text : `${text.slice(0, fits - 1)}…`;
}
