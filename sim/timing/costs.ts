// The simulator's timing numbers, taken from a target profile in the units the models use.
import type { Profile } from "../../toolchain/target/profile.js";
import type { TimingCosts } from "./instrument.js";
import { PS_PER_US } from "../../lib/time.js";

export type MemoryKind = "scratch" | "sram" | "dram";
export const MEMORY_KINDS: readonly MemoryKind[] = ["scratch", "sram", "dram"];

export interface MemoryTiming {
  latencyCycles: number;
  occupancyCycles: number;
  channels: number;
}

export interface ChipTiming {
  costs: TimingCosts;
  mePsPerCycle: number;
  cpPsPerCycle: number;
  memories: Record<MemoryKind, MemoryTiming>;
  cacheLineBytes: number;
  ctxSwapCycles: number;
  threadsPerMe: number;
  meCount: number;
}

export function chipTiming(p: Profile): ChipTiming {
  const t = p.timing;
  const mem = (k: MemoryKind): MemoryTiming => ({
    latencyCycles: p.memories[k].latencyCycles.value,
    occupancyCycles: p.memories[k].occupancyCycles.value,
    channels: p.memories[k].channels.value,
  });
  return {
    costs: {
      aluCycles: t.aluCycles.value,
      branchTakenCycles: t.branchTakenCycles.value,
      multiplyCycles: t.multiplyCycles.value,
      divideCycles: t.divideCycles.value,
      callCycles: t.callCycles.value,
      bulkBytesPerCycle: t.bulkBytesPerCycle.value,
      memoryIssueCycles: t.memoryIssueCycles.value,
      localLatencyCycles: p.memories.local.latencyCycles.value,
    },
    mePsPerCycle: PS_PER_US / p.microengines.clockMHz.value,
    cpPsPerCycle: PS_PER_US / p.cp.clockMHz.value,
    memories: { scratch: mem("scratch"), sram: mem("sram"), dram: mem("dram") },
    cacheLineBytes: t.cacheLineBytes.value,
    ctxSwapCycles: t.ctxSwapCycles.value,
    threadsPerMe: p.microengines.threadsPerMe.value,
    meCount: p.microengines.count.value,
  };
}
