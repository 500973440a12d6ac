/** Base class of every error @linewise/kernels throws on purpose. */
export class KernelsError extends Error {
  override name = 'KernelsError';
}

/** An option passed to a kernels function is invalid. */
export class KernelsConfigError extends KernelsError {
  override name = 'KernelsConfigError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

/** The requested backend cannot be used on this machine. */
export class BackendUnavailableError extends KernelsError {
  override name = 'BackendUnavailableError';
  constructor(
    readonly backend: string,
    message: string,
  ) {
    super(message);
  }
}
