// Errors of the forecast stage. The code is stable; callers branch on it, never on the message.
import { VigilError } from '../core/errors.js';

export class ForecastWorkerError extends VigilError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('VIGIL_FORECAST_WORKER', message, options);
  }
}
