import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, for tests that read its files (pipelines/, docs/, schema/). */
export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
