/**
 * The runtime services src/core relies on beyond the ES library: the part of the WinterTC Minimum
 * Common API that browsers, Web Workers and Node 20 all provide. src/core/tsconfig.json checks core
 * with these and the ES library only, so a DOM or Node API used in core fails the build; the other
 * projects get the real declarations from their DOM and Node libraries (they exclude this file).
 */
declare var performance: { now(): number };
declare class TextEncoder {
  encode(input?: string): Uint8Array;
}
declare class TextDecoder {
  constructor(label?: string, options?: { fatal?: boolean; ignoreBOM?: boolean });
  decode(input?: ArrayBufferView | ArrayBuffer, options?: { stream?: boolean }): string;
}
declare function setTimeout(handler: () => void, timeout?: number): unknown;
declare function clearTimeout(id: unknown): void;
declare function setInterval(handler: () => void, timeout?: number): unknown;
declare function clearInterval(id: unknown): void;
declare function queueMicrotask(callback: () => void): void;
declare class MessageChannel {
  readonly port1: MessagePortLike;
  readonly port2: MessagePortLike;
}
interface MessagePortLike {
  onmessage: ((event: unknown) => void) | null;
  postMessage(message: unknown): void;
}
