import type { CommandSpec } from '../types.js';
import { RuntimeError } from '../types.js';

// PLACEHOLDER: replaced by the real command while the service is built.
export const command: CommandSpec = {
  name: 'resume',
  summary: 'resume',
  usage: 'resume',
  options: {},
  async run() {
    throw new RuntimeError('winnow resume is not built yet.');
  },
};
