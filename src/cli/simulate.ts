import type { Command } from './io.js';

/** `foresight simulate`: placeholder until its implementation lands (being written now). */
export const simulateCommand: Command = async (_args, io) => {
  io.stderr.write('foresight simulate: not implemented yet\n');
  return 1;
};
