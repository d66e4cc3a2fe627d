import type { CommandSpec } from '../types.js';
import { RuntimeError } from '../types.js';

// PLACEHOLDER: replaced by the real command while the service is built.
export const command: CommandSpec = {
  name: 'status',
  summary: 'status',
  usage: 'status',
  options: {},
  async run() {
    throw new RuntimeError('winnow status is not built yet.');
  },
};
