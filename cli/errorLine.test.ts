import { describe, expect, it } from 'vitest';
import { FormatError, stepError } from '../src/core/errors';
import { errorLine } from './errorLine';

describe('errorLine: what the CLI prints for a failure (issue #12)', () => {
  it('qbench\'s own errors as they are, on one line', () => {
    expect(errorLine(new FormatError('a.onnx', 'the file is\nempty'), 'eval')).toBe('qbench: a.onnx: the file is empty');
    // A search worker's error crosses the thread as a plain Error with its name.
    const crossed = Object.assign(new Error('m.onnx: ranking layer "c": boom'), { name: 'StepError' });
    expect(errorLine(crossed, 'search')).toBe('qbench: m.onnx: ranking layer "c": boom');
    expect(errorLine(stepError(new Error('x'), 'm.onnx', 'calibrating'), 'calibrate')).toBe('qbench: m.onnx: calibrating: x');
  });

  it('a file the system refused names its path', () => {
    const refused = Object.assign(new Error("EACCES: permission denied, open '/out/x.onnx'"), { code: 'EACCES', syscall: 'open', path: '/out/x.onnx' });
    expect(errorLine(refused, 'export')).toBe('qbench: /out/x.onnx: permission denied');
  });

  it('anything else is a bug, named with the command, without stack or colour codes', () => {
    const bug = new RangeError('Maximum call stack\nsize exceeded \x1b[31mred\x1b[0m');
    expect(errorLine(bug, 'eval')).toBe('qbench eval: unexpected error (RangeError: Maximum call stack size exceeded red); this is a bug in qbench: please report it with the command line');
    expect(errorLine('thrown text', 'search')).toBe('qbench search: unexpected error (string: thrown text); this is a bug in qbench: please report it with the command line');
  });
});
