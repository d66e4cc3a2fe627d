import type { CommandSpec } from '../types.js';
import { RuntimeError } from '../types.js';

// PLACEHOLDER: replaced by the real command while the service is built.
export const command: CommandSpec = {
  name: 'bench',
  summary: 'bench',
  usage: 'bench',
  options: {},
  async run() {
    throw new RuntimeError('winnow bench is not built yet.');
  },
};
