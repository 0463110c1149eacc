import { Flags } from '@oclif/core';
import { backendChoices } from '../ml/backend-choice.js';

/** `--backend`, shared by every command that runs a model. */
export const backendFlag = (description: string) =>
  Flags.string({ description, env: 'MLPIPE_BACKEND', options: [...backendChoices], default: 'auto' });
