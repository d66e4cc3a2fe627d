import type { CommandSpec } from '../types.js';
import { RuntimeError } from '../types.js';

// PLACEHOLDER: replaced by the real command while the service is built.
export const command: CommandSpec = {
  name: 'pause',
  summary: 'pause',
  usage: 'pause',
  options: {},
  async run() {
    throw new RuntimeError('winnow pause is not built yet.');
  },
};
