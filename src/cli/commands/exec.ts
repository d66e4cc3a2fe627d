import type { CommandSpec } from '../types.js';
import { RuntimeError } from '../types.js';

// PLACEHOLDER: replaced by the real command while the service is built.
export const command: CommandSpec = {
  name: 'exec',
  summary: 'exec',
  usage: 'exec',
  options: {},
  async run() {
    throw new RuntimeError('winnow exec is not built yet.');
  },
};
