import { Flags } from '@oclif/core';
import { UserError } from '../errors.js';
import ms from 'ms';

/** Milliseconds in a duration like `90s`, `15m`, `1.5h`, `7d`, `2w` (the `ms` package's syntax, a unit required); undefined when it is not one, or not positive. */
export function parseDuration(text: string): number | undefined {
  const value = /^\s*\d[\d.]*\s*[a-z]+\s*$/i.test(text) ? ms(text as ms.StringValue) : undefined;
  return value !== undefined && Number.isFinite(value) && value > 0 ? value : undefined;
}

/** A duration flag (`--since 1h`, `--log-retention 7d`) read into milliseconds, `defaultText` when not given. */
export function durationFlag(description: string, defaultText: string) {
  return Flags.custom<number>({
    description,
    default: parseDuration(defaultText)!,
    defaultHelp: async () => defaultText,
    async parse(input, _ctx, opts) {
      const value = parseDuration(input);
      if (value === undefined) throw new UserError(`--${opts.name} expects a duration like 30m, 1h, 7d or 2w, got "${input}"`);
      return value;
    },
  })();
}
