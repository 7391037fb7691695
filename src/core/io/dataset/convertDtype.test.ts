import { describe, expect, it } from 'vitest';
import { convertDtype } from './convertDtype';

describe('convertDtype', () => {
  it('widens where every value is exact', () => {
    expect(convertDtype({ dtype: 'uint8', dims: [3], data: new Uint8Array([0, 128, 255]) }, 'float32')).toEqual({ tensor: { dtype: 'float32', dims: [3], data: new Float32Array([0, 128, 255]) } });
    expect(convertDtype({ dtype: 'int32', dims: [2], data: new Int32Array([-5, 7]) }, 'int64')).toEqual({ tensor: { dtype: 'int64', dims: [2], data: new BigInt64Array([-5n, 7n]) } });
    expect(convertDtype({ dtype: 'float16', dims: [2], data: new Uint16Array([0x3800, 0xc000]) }, 'float32')).toEqual({ tensor: { dtype: 'float32', dims: [2], data: new Float32Array([0.5, -2]) } });
  });

  it('narrows int64 ids that fit, and 0/1 into bool', () => {
    expect(convertDtype({ dtype: 'int64', dims: [2], data: new BigInt64Array([1n, 2147483647n]) }, 'int32')).toEqual({ tensor: { dtype: 'int32', dims: [2], data: new Int32Array([1, 2147483647]) } });
    expect(convertDtype({ dtype: 'int8', dims: [2], data: new Int8Array([1, 0]) }, 'bool')).toEqual({ tensor: { dtype: 'bool', dims: [2], data: new Uint8Array([1, 0]) } });
  });

  it('rounds float64 to float32, the one lossy conversion allowed', () => {
    expect(convertDtype({ dtype: 'float64', dims: [1], data: new Float64Array([0.1]) }, 'float32')).toEqual({ tensor: { dtype: 'float32', dims: [1], data: new Float32Array([0.1]) } });
  });

  it('names the first element that would change', () => {
    expect(convertDtype({ dtype: 'int64', dims: [2], data: new BigInt64Array([1n, 2147483648n]) }, 'int32')).toEqual({ problem: 'element 1 (2147483648) has no exact int32 value' });
    expect(convertDtype({ dtype: 'int32', dims: [2], data: new Int32Array([1, 16777217]) }, 'float32')).toEqual({ problem: 'element 1 (16777217) has no exact float32 value' });
    expect(convertDtype({ dtype: 'uint8', dims: [1], data: new Uint8Array([2]) }, 'bool')).toEqual({ problem: 'element 0 (2) has no exact bool value' });
    expect(convertDtype({ dtype: 'float32', dims: [1], data: new Float32Array([1]) }, 'float16')).toEqual({ problem: 'qbench does not round data to float16; save it as float16' });
  });
});
