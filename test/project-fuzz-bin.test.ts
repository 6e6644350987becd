import { describe, test } from 'node:test';
import { fuzzBase, fuzzThroughBin } from './support/project-fuzz-suite.ts';

describe('fuzz: broken and hostile project files through the real bin', () => {
  test('200 cases: validate and run exit non-zero naming a file, with no stack trace and no state written', async () => {
    using base = await fuzzBase();
    fuzzThroughBin(base, 200);
  });
});
