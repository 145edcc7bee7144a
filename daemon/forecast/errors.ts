// Errors of the forecast stage. The code is stable; callers branch on it, never on the message.
export class ForecastWorkerError extends Error {
  readonly code = 'VIGIL_FORECAST_WORKER';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ForecastWorkerError';
  }
}
