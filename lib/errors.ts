// The one error type the CLI turns into a single line and exit code 1: a user-facing failure that
// already names the file, field, image or packet at fault and what to do.
export class NpswitchError extends Error {
  constructor(message: string, readonly details: string[] = []) {
    super(message);
    this.name = "NpswitchError";
  }
}
