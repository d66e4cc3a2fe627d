import type { CommandSpec } from '../types.js';
import { RuntimeError } from '../types.js';

// PLACEHOLDER: replaced by the real command while the service is built.
export const command: CommandSpec = {
  name: 'doctor',
  summary: 'doctor',
  usage: 'doctor',
  options: {},
  async run() {
    throw new RuntimeError('winnow doctor is not built yet.');
  },
};
