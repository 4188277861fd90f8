// An error the management API answers with its own HTTP status, fields (step, received, ...; device/protocol.ts
// ErrorBody) and headers: raised by uploads, flash commits, rollbacks and the API's own request checks.
import type { ErrorExtra } from "./protocol.js";

export class ApiError extends Error {
  constructor(readonly status: number, message: string, readonly extra: ErrorExtra = {}, readonly headers: Record<string, string> = {}) {
    super(message);
  }
}
