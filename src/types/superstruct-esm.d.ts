/**
 * superstruct's ES module build, imported by path: its package has no "exports" and its "main" is
 * a UMD bundle, which Node loads through the CommonJS path from an ES module import. That cost the
 * daemon 3.8 MB of RSS (file-backed) and 1.5–3 MB of heap where the ES build costs ~0.6 MB
 * (measured with /proc/self/status around the import). Same code, same types.
 */
declare module 'superstruct/dist/index.mjs' {
  export * from 'superstruct';
}
