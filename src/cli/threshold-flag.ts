import { Flags } from '@oclif/core';
import { UserError } from '../errors.js';

/** `--threshold P`: binary models predict the positive class when its probability is at least P (0 < P < 1). */
export const thresholdFlag = Flags.custom<number>({
  description: 'Binary models: predict the positive class when its probability is at least this (0 < P < 1; default 0.5).',
  async parse(input) {
    const x = Number(input);
    if (!(x > 0 && x < 1)) {
      throw new UserError(`--threshold expects a probability between 0 and 1 (exclusive), got "${input}"`, { hint: 'e.g. --threshold 0.7 predicts the positive class when its probability is at least 0.7' });
    }
    return x;
  },
});
