// The CP's own HTTP answers (RFC 9110 15): the refusals it sends instead of dispatching a request.
export type RefusalStatus = 400 | 431 | 503;

const REASON_PHRASE: Record<RefusalStatus, string> = {
  400: "Bad Request",
  431: "Request Header Fields Too Large",
  503: "Service Unavailable",
};

/** A complete response that closes the connection. */
export function refusalResponse(status: RefusalStatus): Uint8Array {
  const body = `${status} ${REASON_PHRASE[status]}\n`;
  const head = `HTTP/1.1 ${status} ${REASON_PHRASE[status]}\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`;
  return new TextEncoder().encode(head + body);
}
