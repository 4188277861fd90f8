// Upload a firmware image to a device and commit it (device/README.md, "Flashing"): chunked
// PUTs by offset, paced by the device's load, resumed from the device's `received` after faults.
import { createHash } from "node:crypto";
import { NpswitchError } from "../../lib/errors.js";
import { ROUTES, type CommitResult } from "../protocol.js";
import { DeviceError, type DeviceClient } from "./client.js";

export interface FlashOptions {
  /** Bytes per chunk; the device's `chunk_size` when absent or larger. */
  chunkSize?: number;
  /** Called after every accepted chunk with the device's load (0..1). */
  onProgress?(sent: number, total: number, load: number): void;
  /** How to wait (ms); tests inject one that records. */
  sleep?(ms: number): Promise<void>;
  /** Consecutive failed requests tolerated before the upload is abandoned; default 8. */
  maxRetries?: number;
  /** Pause after every chunk even when the device is idle (ms); default 0. */
  minDelayMs?: number;
  /** Extra pause at full load (ms); default 250. See paceDelayMs. */
  maxDelayMs?: number;
}

export const DEFAULT_MAX_RETRIES = 8;
export const DEFAULT_MIN_DELAY_MS = 0;
export const DEFAULT_MAX_DELAY_MS = 250;
/** Backoff after a failure without the device's word on how long: 100 ms, doubling, capped. */
const BACKOFF_FIRST_MS = 100;
const BACKOFF_CAP_MS = 5_000;
/** The longest `retry_after_ms` honoured as given: a session expires after 60 s without a chunk (default). */
const RETRY_AFTER_CAP_MS = 30_000;

export type { CommitResult } from "../protocol.js";

/**
 * The pause after a chunk: `minDelayMs + load² · maxDelayMs`, load clamped to [0, 1] (a missing or
 * bad load counts as 0). Squared so that a lightly loaded device is barely slowed down, while one
 * near its busy limit (the device refuses chunks above 0.9 by default) gets most of maxDelayMs.
 */
export function paceDelayMs(load: number, opts: Pick<FlashOptions, "minDelayMs" | "maxDelayMs"> = {}): number {
  const l = Number.isFinite(load) ? Math.min(1, Math.max(0, load)) : 0;
  return (opts.minDelayMs ?? DEFAULT_MIN_DELAY_MS) + l * l * (opts.maxDelayMs ?? DEFAULT_MAX_DELAY_MS);
}

/** The wait before retry number `failures` (1-based) when the device gave none: 100, 200, 400 ... 5000 ms. */
export function backoffMs(failures: number): number {
  return Math.min(BACKOFF_CAP_MS, BACKOFF_FIRST_MS * 2 ** Math.max(0, failures - 1));
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Open a session, send `bytes` in order, commit. A 429 waits as told and resends the same chunk; a
 * 409 resumes from the device's `received`; a lost connection, a timeout or a 5xx backs off, asks
 * the session's `received` and resumes there. After maxRetries consecutive failures, or any other
 * refusal, the session is deleted (best effort) and a DeviceError says what was sent. The running
 * image is never touched before the commit, and a refused commit (422) leaves it as it was.
 */
export async function flashImage(client: DeviceClient, bytes: Uint8Array, opts: FlashOptions = {}): Promise<CommitResult> {
  if (bytes.length === 0) throw new NpswitchError("the image is empty: nothing to flash");
  const sleep = opts.sleep ?? realSleep;
  const maxRetries = opts.maxRetries ?? DEFAULT_MAX_RETRIES;
  const size = bytes.length;
  const sha256 = createHash("sha256").update(bytes).digest("hex");

  const opened = await client.openFlash(size, sha256);
  const session = opened.session;
  if (typeof session !== "string" || !isPositiveInt(opened.chunk_size)) {
    const endpoint = ROUTES.flashOpen.endpoint({});
    throw new DeviceError(`${endpoint}: the device's answer lacks a session or a chunk_size: ${JSON.stringify(opened)}`, { failure: "http", endpoint });
  }
  const chunk = isPositiveInt(opts.chunkSize) ? Math.min(opts.chunkSize, opened.chunk_size) : opened.chunk_size;

  let sent = 0; // what the device holds, as far as we know
  let failures = 0; // consecutive
  let resync = false; // the last PUT's fate is unknown: ask the device before sending more
  let lastError: DeviceError | undefined;
  // A device that keeps moving `received` back can reset `failures` forever; this bounds the whole upload.
  let budget = (Math.ceil(size / chunk) + 1) * (maxRetries + 1);

  const giveUp = async (why: string): Promise<never> => {
    await client.abortFlash(session).catch(() => undefined); // best effort: it expires anyway
    throw new DeviceError(
      `flashing stopped: ${why}; ${sent} of ${size} bytes were sent, the upload was discarded and the running image is untouched`,
      lastError?.info ?? { failure: "http", endpoint: `${ROUTES.flashChunk.method} ${ROUTES.flashSession.path({ session })}` },
    );
  };
  const failed = async (e: DeviceError, waitMs: number): Promise<void> => {
    lastError = e;
    failures++;
    if (failures > maxRetries) await giveUp(`${failures} failed requests in a row (last: ${e.message})`);
    if (waitMs > 0) await sleep(waitMs);
  };

  opts.onProgress?.(0, size, opened.load);
  while (sent < size) {
    if (budget-- <= 0) await giveUp(`the device made no progress (last: ${lastError?.message ?? "none"})`);
    if (resync) {
      try {
        const st = await client.flashSession(session);
        if (!validOffset(st.received, size)) await giveUp(`the device reports ${JSON.stringify(st.received)} bytes received of ${size}`);
        sent = st.received;
        resync = false;
      } catch (e) {
        if (!(e instanceof DeviceError)) throw e;
        if (transient(e)) { await failed(e, backoffMs(failures + 1)); continue; }
        lastError = e;
        await giveUp(e.message);
      }
      if (sent >= size) break;
    }

    const end = Math.min(sent + chunk, size);
    let ack;
    try {
      ack = await client.putChunk(session, sent, bytes.subarray(sent, end));
    } catch (e) {
      if (!(e instanceof DeviceError)) throw e;
      if (e.status === 429) {
        await failed(e, Math.min(RETRY_AFTER_CAP_MS, e.info.retryAfterMs ?? backoffMs(failures + 1)));
      } else if (e.status === 409 && validOffset(e.info.body?.received, size)) {
        await failed(e, 0);
        sent = e.info.body!.received as number;
      } else if (transient(e)) {
        await failed(e, backoffMs(failures + 1));
        resync = true;
      } else {
        lastError = e;
        await giveUp(e.message);
      }
      continue;
    }

    if (!validOffset(ack.received, size) || ack.received <= sent) {
      // Accepted but no progress (or nonsense): count it, then ask where the device stands.
      const endpoint = ROUTES.flashChunk.endpoint({ session, offset: sent });
      await failed(new DeviceError(`${endpoint}: the device answered received=${JSON.stringify(ack.received)}`, { failure: "http", endpoint }), backoffMs(failures + 1));
      resync = true;
      continue;
    }
    failures = 0;
    sent = ack.received;
    opts.onProgress?.(sent, size, ack.load);
    const wait = Math.max(paceDelayMs(ack.load, opts), Math.min(RETRY_AFTER_CAP_MS, ack.retry_after_ms ?? 0));
    if (wait > 0) await sleep(wait);
  }

  try {
    return await client.commitFlash(session);
  } catch (e) {
    if (e instanceof DeviceError && e.status === 422) {
      await client.abortFlash(session).catch(() => undefined);
      const step = typeof e.info.body?.step === "string" ? e.info.body.step : "(unnamed)";
      const said = typeof e.info.body?.error === "string" ? e.info.body.error : e.message;
      throw new DeviceError(`device refused the image at step ${step}: ${said}; the running image is untouched`, e.info);
    }
    if (e instanceof DeviceError && transient(e)) {
      throw new DeviceError(`${e.message}: whether the image was swapped in is unknown; see 'npswitch flash --status'`, e.info);
    }
    throw e;
  }
}

/** Worth retrying after asking where the upload stands: no answer, a lost connection, or a device fault. */
function transient(e: DeviceError): boolean {
  return e.info.failure !== "http" || (e.status !== undefined && e.status >= 500);
}

function isPositiveInt(n: unknown): n is number {
  return typeof n === "number" && Number.isInteger(n) && n > 0;
}

function validOffset(n: unknown, size: number): n is number {
  return typeof n === "number" && Number.isInteger(n) && n >= 0 && n <= size;
}
