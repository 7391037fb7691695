import { GraphBuilder } from './GraphBuilder';

/**
 * A YOLO-style head: one output [1, 4 + C, A] joined by a Concat of box coordinates in pixels (0 to
 * 640) and C class probabilities (a Sigmoid, 0 to 1). One quantizer on the Concat gives the
 * probabilities a step of about 2.5: they all round to 0, while the output scored whole keeps cos
 * 0.99+ (the boxes dominate its energy).
 */
export function yoloHead(classes = 8, anchors = 64): Uint8Array {
  const g = new GraphBuilder({ seed: 21, opset: 13 });
  const x = g.input('x', [1, 16, anchors]);
  const features = g.node('Relu', [g.node('MatMul', [g.constant(Float32Array.from({ length: 16 * 16 }, (_, i) => Math.sin(i) * 0.3), [16, 16]), x], {}, 1, [1, 16, anchors], 'mix')[0]], {}, 1, [1, 16, anchors], 'relu')[0];
  const boxW = g.constant(Float32Array.from({ length: 4 * 16 }, (_, i) => 20 + 10 * Math.cos(i)), [4, 16]);
  const [boxes] = g.node('MatMul', [boxW, features], {}, 1, [1, 4, anchors], 'box_head');
  const clsW = g.weight([classes, 16], 0.5); // seeded, independent rows: one class wins each anchor clearly, as in a trained head
  const [logits] = g.node('MatMul', [clsW, features], {}, 1, [1, classes, anchors], 'cls_head');
  const [probs] = g.node('Sigmoid', [logits], {}, 1, [1, classes, anchors], 'cls_sigmoid');
  const [joined] = g.node('Concat', [boxes, probs], { axis: 1 }, 1, [1, 4 + classes, anchors], 'detections');
  g.output(joined);
  return g.toBytes();
}
