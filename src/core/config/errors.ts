/** A config problem, always naming where it is. Exit code 2 in the CLI. */
export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly key: string | null,
    readonly problem: string,
    readonly line?: number,
  ) {
    super(
      `${file}${line !== undefined ? `:${line}` : ''}: ${key ? `key "${key}": ` : ''}${problem}`,
    );
    this.name = 'ConfigError';
  }
}
