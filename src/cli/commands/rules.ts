import type { CommandSpec } from '../types.js';
import { RuntimeError } from '../types.js';

// PLACEHOLDER: replaced by the real command while the service is built.
export const command: CommandSpec = {
  name: 'rules',
  summary: 'rules',
  usage: 'rules',
  options: {},
  async run() {
    throw new RuntimeError('winnow rules is not built yet.');
  },
};
