import type { CommandSpec } from '../types.js';
import { RuntimeError } from '../types.js';

// PLACEHOLDER: replaced by the real command while the service is built.
export const command: CommandSpec = {
  name: 'snapshot',
  summary: 'snapshot',
  usage: 'snapshot',
  options: {},
  async run() {
    throw new RuntimeError('winnow snapshot is not built yet.');
  },
};
