import type { CommandSpec } from '../types.js';
import { RuntimeError } from '../types.js';

// PLACEHOLDER: replaced by the real command while the service is built.
export const command: CommandSpec = {
  name: 'filter',
  summary: 'filter',
  usage: 'filter',
  options: {},
  async run() {
    throw new RuntimeError('winnow filter is not built yet.');
  },
};
