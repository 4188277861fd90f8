// The device's A/B firmware slots on disk: state_dir/slot-A.npfw, slot-B.npfw and active.json naming
// the slot that runs. Every write goes to a temporary file renamed into place, so a device that stops at any point
// leaves either the old file or the new one, never half of one; a new image only ever goes to the slot
// that is not running, and active.json changes only after the new image is running.
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../lib/fs-atomic.js";
import { sha256Hex } from "../toolchain/image/format.js";
import type { SlotName } from "./protocol.js";

export const SLOTS: SlotName[] = ["A", "B"];

export interface ActiveRecord {
  slot: SlotName;
  sha256: string;
  /** When it became active (ISO time). */
  since: string;
}

export class Slots {
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  path(slot: SlotName): string {
    return join(this.dir, `slot-${slot}.npfw`);
  }

  read(slot: SlotName): Uint8Array | null {
    const p = this.path(slot);
    return existsSync(p) ? new Uint8Array(readFileSync(p)) : null;
  }

  write(slot: SlotName, bytes: Uint8Array): void {
    writeFileAtomic(this.path(slot), bytes);
  }

  active(): ActiveRecord | null {
    const p = join(this.dir, "active.json");
    if (!existsSync(p)) return null;
    try {
      const r = JSON.parse(readFileSync(p, "utf8")) as ActiveRecord;
      return SLOTS.includes(r.slot) ? r : null;
    } catch {
      return null;
    }
  }

  setActive(slot: SlotName, bytes: Uint8Array): ActiveRecord {
    const r: ActiveRecord = { slot, sha256: sha256Hex(bytes), since: new Date().toISOString() };
    writeFileAtomic(join(this.dir, "active.json"), JSON.stringify(r, null, 2) + "\n");
    return r;
  }

  static other(slot: SlotName): SlotName {
    return slot === "A" ? "B" : "A";
  }
}
