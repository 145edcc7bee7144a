// Errors of the alerts stage, one class with a stable code per failure a caller (the API) can act on.
//
//   VIGIL_ALERT_NOT_FOUND  no alert has that id (never stored, or removed by retention)
//   VIGIL_ALERT_STATE      the transition is not allowed from the alert's state (e.g. resolve twice)
//   VIGIL_ALERT_CURSOR     a paging cursor that this store did not hand out (or for another filter)
import { VigilError } from '../core/errors.js';

export type AlertErrorCode = 'VIGIL_ALERT_NOT_FOUND' | 'VIGIL_ALERT_STATE' | 'VIGIL_ALERT_CURSOR';

export class AlertError extends VigilError {
  readonly alertCode: AlertErrorCode;

  constructor(code: AlertErrorCode, message: string) {
    super(code, message);
    this.alertCode = code;
  }
}
