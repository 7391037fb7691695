/** The whole message of what `fn` throws, with the error's name (tests assert all of it). */
export function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  }
  throw new Error('expected an error, none was thrown');
}
