/** The CLI entry that bin/run.js loads: oclif's `execute`, bundled with the commands it runs. */
export { execute } from '@oclif/core';
