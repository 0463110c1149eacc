import { Help, type Command } from '@oclif/core';
import { exitCodeHelp } from '../exit-codes.js';

/** oclif's help with the exit-code table under every command. */
export default class MlpipeHelp extends Help {
  override formatCommand(command: Command.Loadable): string {
    const indented = exitCodeHelp
      .split('\n')
      .map((l) => `  ${l}`)
      .join('\n');
    return `${super.formatCommand(command)}\n\nEXIT CODES\n${indented}`;
  }
}
