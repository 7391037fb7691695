import { describe, expect, it } from 'vitest';
import { ortNodeEngine } from '../../../cli/ortNodeEngine';
import { GraphBuilder } from '../../../test/support/GraphBuilder';
import { messageOf } from '../../../test/support/messageOf';
import { onnx } from '../io/onnx/protobuf';
import { ortReason, runError, sessionError } from './engineErrors';

// onnxruntime-node 1.30's text for a kernel that fails, as it reaches JavaScript.
const RESHAPE_FAILURE = "Non-zero status code returned while running Reshape node. Name:'bad_reshape' Status Message: /onnxruntime_src/onnxruntime/core/providers/cpu/tensor/reshape_helper.h:91 onnxruntime::ReshapeHelper::ReshapeHelper(const onnxruntime::TensorShape&, onnxruntime::TensorShapeVector&, bool) input_shape_size == requested_shape_size was false. The input tensor cannot be reshaped to the requested shape. Input shape:{1,4,8,8}, requested shape:{1,3,8,8}";

describe('onnxruntime failures as one line naming the file (issue #12)', () => {
  it('a kernel failure names the node and its operator, with the reason and without the source location, the C++ signature or the failed check', () => {
    expect(messageOf(() => { throw runError(new Error(RESHAPE_FAILURE), 'runfail.onnx'); })).toBe(
      'EngineError: runfail.onnx: onnxruntime failed running node "bad_reshape" (Reshape): The input tensor cannot be reshaped to the requested shape. Input shape:{1,4,8,8}, requested shape:{1,3,8,8}',
    );
  });

  it('other failures: colour codes, line breaks and error-code prefixes go', () => {
    expect(ortReason(new Error('\x1b[1;31m[ONNXRuntimeError] : 2 : INVALID_ARGUMENT : Got invalid dimensions for input: x for the following indices\n index: 1 Got: 4 Expected: 3\n Please fix either the inputs/outputs or the model.\x1b[m')))
      .toBe('Got invalid dimensions for input: x for the following indices index: 1 Got: 4 Expected: 3 Please fix either the inputs/outputs or the model.');
    expect(ortReason(new Error('Exception during initialization: /onnxruntime_src/onnxruntime/core/optimizer/initializer.cc:44 onnxruntime::Initializer::Initializer(const onnx::TensorProto&, const std::filesystem::__cxx11::path&) !model_path.empty() was false. model_path must not be empty.')))
      .toBe('Exception during initialization: model_path must not be empty.');
    expect(runError(new TypeError("input 'x' is missing in 'feeds'."), 'm.onnx').message).toBe("m.onnx: onnxruntime could not run the model: input 'x' is missing in 'feeds'.");
    expect(sessionError(new Error('Error: Failed to load model because\nprotobuf parsing failed.'), 'junk.onnx').message).toBe('junk.onnx: onnxruntime could not load the model: Failed to load model because protobuf parsing failed.');
  });

  it('the onnxruntime-node engine throws them so: a Conv that fails at run time', async () => {
    const b = new GraphBuilder({ seed: 2 });
    const x = b.input('x', [1, 3, 8, 8]);
    b.output(b.conv(x, 4, 3, { name: 'the_conv' }));
    const model = b.toModel();
    model.graph!.input[0].type!.tensorType!.shape!.dim[1] = onnx.TensorShapeProto.Dimension.create({ dimParam: 'c' });
    const session = await ortNodeEngine(1).createSession(onnx.ModelProto.encode(model).finish(), { modelName: 'conv.onnx' });
    try {
      await expect(session.run({ x: { dtype: 'float32', dims: [1, 5, 8, 8], data: new Float32Array(320) } })).rejects.toThrow(
        // Where the CPU has NCHWc kernels (AVX2 and up), onnxruntime runs the Conv as a node of its own named after its output.
        /^conv\.onnx: onnxruntime failed running (?:node "the_conv" \(Conv\)|the Conv computing tensor "conv_2" \(onnxruntime's node "conv_2_nchwc"\)): Input channels C is not equal to kernel channels \* group\. C: 5 kernel channels: 3 group: 1$/,
      );
    } finally {
      await session.dispose();
    }
  });
});
