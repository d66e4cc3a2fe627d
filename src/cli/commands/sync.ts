import type { CommandSpec } from '../types.js';
import { RuntimeError } from '../types.js';

// PLACEHOLDER: replaced by the real command while the service is built.
export const command: CommandSpec = {
  name: 'sync',
  summary: 'sync',
  usage: 'sync',
  options: {},
  async run() {
    throw new RuntimeError('winnow sync is not built yet.');
  },
};
