// An error the management API answers with its own HTTP status and fields (step, received, ...):
// raised by uploads, flash commits, rollbacks and the API's own request checks.
export class ApiError extends Error {
  constructor(readonly status: number, message: string, readonly extra: Record<string, unknown> = {}) {
    super(message);
  }
}
