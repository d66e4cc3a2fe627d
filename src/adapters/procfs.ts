/** The /proc readers live in util/procfs.ts (one module for locks, registries, adapters and doctor). */
export * from '../util/procfs.js';
