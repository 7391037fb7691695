import { describe } from 'vitest';
import { corpusTests } from './corpusSuite';

/** The second half of the corpus of real models (corpusSuite.ts, corpus.test.ts). */
describe('the corpus of real models, second half', () => {
  corpusTests('second');
});
