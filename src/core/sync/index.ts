export * from './queue.js';
export * from './schedule.js';
export * from './conflict.js';
export * from './errors.js';
