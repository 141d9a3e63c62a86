/** A configuration that cannot be used; the message names the file, variable or field at fault. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}
