import type { Command } from './io.js';

/** `foresight detect`: placeholder until its implementation lands (being written now). */
export const detectCommand: Command = async (_args, io) => {
  io.stderr.write('foresight detect: not implemented yet\n');
  return 1;
};
