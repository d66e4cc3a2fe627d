import type { CommandSpec } from '../types.js';
import { RuntimeError } from '../types.js';

// PLACEHOLDER: replaced by the real command while the service is built.
export const command: CommandSpec = {
  name: 'stop',
  summary: 'stop',
  usage: 'stop',
  options: {},
  async run() {
    throw new RuntimeError('winnow stop is not built yet.');
  },
};
