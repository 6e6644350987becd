import { describe, test } from 'node:test';
import { fuzzBase, fuzzInProcess } from './support/project-fuzz-suite.ts';

// Half of the 10,000 in-process fuzz cases (the other half runs beside it): see support/project-fuzz-suite.ts.
describe('fuzz: broken and hostile project files through the loader and validate', () => {
  test('cases 0 to 4,999 of 10,000: problems that name a file, never a crash, no state written', async () => {
    using base = await fuzzBase();
    await fuzzInProcess(base, 0, 5_000);
  });
});
