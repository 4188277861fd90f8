// Rule `data-slot`: an image's static data lies at constant offsets inside its own slot of the IMAGE_DATA region (layout.ts).
import type { DataSegmentInfo } from "../wasm/reader.js";
import { hex, type ModuleRule, type VerifyContext } from "./rule.js";

export const dataSlotRule: ModuleRule = {
  id: "data-slot",
  description: "every data segment is active, at a constant offset, inside the image's data slot",
  check(info, ctx) {
    const slot = ctx.dataSlot;
    if (!slot) return [];
    return info.dataSegments.flatMap((seg, i) => {
      const problem = segmentProblem(seg, slot);
      return problem ? [`data segment ${i} ${problem} (the image's data slot is ${hex(slot.base)}..${hex(slot.base + slot.size)})`] : [];
    });
  },
};

function segmentProblem(seg: DataSegmentInfo, slot: NonNullable<VerifyContext["dataSlot"]>): string | null {
  if (seg.mode === "passive") return `(${seg.size} bytes) is passive, so memory.init could write it anywhere`;
  if (seg.offset === null) return `(${seg.size} bytes) has a non-constant offset`;
  const end = seg.offset + seg.size;
  if (seg.offset >= slot.base && end <= slot.base + slot.size) return null;
  return `at ${hex(seg.offset)}..${hex(end)} (${seg.size} bytes) is outside the slot`;
}
