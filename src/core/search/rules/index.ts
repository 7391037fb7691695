/**
 * Graph-only mixed-precision rules (docs/algorithms.md §5, issue #4): each reads a ModelGraph, needs no
 * engine and no data, and returns a PrecisionPlan saying which layers get which precision and
 * why; `applyPlan` turns a plan into a QTable. See README.md for the rules and their sources.
 */
export { applyPlan, type PrecisionAssignment, type PrecisionPlan } from './precisionPlan';
export { RuleGraph } from './RuleGraph';
export {
  fpForward, findLayer, parseFpForwardArgs, parseFpForwardBlocks, tpuMlirFpType,
  type FpForwardBlock, type FpForwardOptions, type FpForwardResult, type TpuMlirFpType,
} from './fpForward';
export {
  patternMatch, SPPF_SIGNATURE, YOLO_POST_PROCESSING_SIGNATURES,
  type ModelKind, type PatternFiring, type PatternMatchOptions, type PatternMatchResult, type PatternRule, type PostProcessingSignature,
} from './patternMatch';
export {
  patternResolver, QUANTIZATION_PATTERNS,
  type PatternResolution, type PatternResolverOptions, type QuantizationPattern, type ResolvedPattern,
} from './patternResolver';
export {
  findGelus, findLayerNorms, findSilus, findSoftmaxes, matchGelu, matchLayerNorm, matchSilu, matchSoftmax,
  type DecomposedGelu, type DecomposedLayerNorm, type DecomposedSoftmax, type Silu,
} from './decomposedOps';
