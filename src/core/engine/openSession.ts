import type { Engine, Session, SessionOptions } from './Engine';
import { sessionError } from './engineErrors';

/** Creates a session, turning the engine's refusal into an EngineError naming the model. */
export async function openSession(engine: Engine, bytes: Uint8Array, modelName: string, options: SessionOptions = {}): Promise<Session> {
  try {
    return await engine.createSession(bytes, { ...options, modelName });
  } catch (error) {
    throw sessionError(error, modelName);
  }
}
