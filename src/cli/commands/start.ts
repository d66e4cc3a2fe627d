import type { CommandSpec } from '../types.js';
import { RuntimeError } from '../types.js';

// PLACEHOLDER: replaced by the real command while the service is built.
export const command: CommandSpec = {
  name: 'start',
  summary: 'start',
  usage: 'start',
  options: {},
  async run() {
    throw new RuntimeError('winnow start is not built yet.');
  },
};
