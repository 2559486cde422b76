import type { Command } from './io.js';

/** `foresight train`: placeholder until its implementation lands (being written now). */
export const trainCommand: Command = async (_args, io) => {
  io.stderr.write('foresight train: not implemented yet\n');
  return 1;
};
