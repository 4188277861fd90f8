// Target profiles: the numbers of one network processor (MEs, threads, clocks, control store,
// memories and their latencies, rings, hash/CRC units, CP). Built-in ones live in profiles/*.json;
// a user may pass a JSON file of the same shape. Every number carries a source or an assumption.
import { existsSync, readFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { z } from "zod";
import { NpswitchError } from "../../lib/errors.js";

const PROFILES_DIR = new URL("./profiles/", import.meta.url);
export const BUILTIN_TARGETS = ["ixp2400", "ixp2800"] as const;
export const DEFAULT_TARGET = "ixp2400";

/** A number with where it comes from: exactly one of source or assumption. */
const sourced = <T extends z.ZodType>(value: T) =>
  z.union([
    z.strictObject({ value, source: z.string().min(1) }),
    z.strictObject({ value, assumption: z.string().min(1) }),
  ]);
const count = sourced(z.number().int().positive());
const cycles = sourced(z.number().int().nonnegative());

const memory = z.strictObject({ bytes: count, latencyCycles: cycles, occupancyCycles: count, channels: count });

export const ProfileSchema = z.strictObject({
  $comment: z.string().optional(),
  name: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, "lower-case letters, digits, '.', '_' or '-'"),
  description: z.string(),
  microengines: z.strictObject({
    count,
    threadsPerMe: count,
    clockMHz: count,
    controlStoreInstructions: count,
    instructionsPerWasmOp: count,
  }),
  memories: z.strictObject({ local: memory, scratch: memory, sram: memory, dram: memory }),
  rings: z.strictObject({ count, entries: count, latencyCycles: cycles }),
  hashUnit: z.strictObject({ present: sourced(z.boolean()), latencyCycles: cycles }),
  crcUnit: z.strictObject({ present: sourced(z.boolean()), latencyCycles: cycles }),
  cp: z.strictObject({ name: sourced(z.string()), clockMHz: count }),
  media: z.strictObject({ lineRateGbps: sourced(z.number().positive()), ports: count }),
  /** Cycle costs the simulator charges (sim/timing). */
  timing: z.strictObject({
    aluCycles: count,
    branchTakenCycles: cycles,
    multiplyCycles: count,
    divideCycles: count,
    callCycles: cycles,
    ctxSwapCycles: cycles,
    bulkBytesPerCycle: count,
    memoryIssueCycles: cycles,
    cacheLineBytes: count,
  }),
});

export type Profile = z.infer<typeof ProfileSchema>;

export interface LoadedProfile {
  profile: Profile;
  /** Where it came from: "builtin:ixp2400" or the file path. */
  origin: string;
  /** sha256 of the profile file's bytes, recorded in the firmware manifest. */
  sha256: string;
}

/** Load a built-in target by name, or a profile JSON file by path, and validate it. */
export function loadProfile(target: string = DEFAULT_TARGET): LoadedProfile {
  const builtin = (BUILTIN_TARGETS as readonly string[]).includes(target);
  const isFile = !builtin && (target.endsWith(".json") || target.includes("/"));
  if (!builtin && !isFile) {
    throw new NpswitchError(`unknown target '${target}': use one of ${BUILTIN_TARGETS.join(", ")} or a profile .json file`);
  }
  const path = builtin ? new URL(`${target}.json`, PROFILES_DIR) : target;
  const origin = builtin ? `builtin:${target}` : target;
  if (!builtin && !existsSync(path)) throw new NpswitchError(`${target}: no such profile file`);
  const text = readFileSync(path);
  let json: unknown;
  try {
    json = JSON.parse(text.toString("utf8"));
  } catch (e) {
    throw new NpswitchError(`${origin}: not valid JSON: ${(e as Error).message}`);
  }
  return { profile: parseProfile(json, origin), origin, sha256: createHash("sha256").update(text).digest("hex") };
}

/** Validate a parsed profile; errors name the field by its JSON path and say what was expected. */
export function parseProfile(json: unknown, origin: string): Profile {
  const r = ProfileSchema.safeParse(json);
  if (r.success) return r.data;
  const lines = r.error.issues.map((i) => {
    const path = i.path.map(String);
    return `${origin}: field ${path.length ? path.join(".") : "(top level)"}: ${describeIssue(i, valueAt(json, path))}`;
  });
  throw new NpswitchError(lines[0], lines.slice(1));
}

const SOURCED_SHAPE = 'expected { "value": ..., "source": "..." } or { "value": ..., "assumption": "..." }';

function valueAt(json: unknown, path: string[]): unknown {
  let v: unknown = json;
  for (const k of path) v = v !== null && typeof v === "object" ? (v as Record<string, unknown>)[k] : undefined;
  return v;
}

function describeIssue(i: z.core.$ZodIssue, input: unknown): string {
  if (input === undefined) return i.code === "invalid_union" ? `missing: ${SOURCED_SHAPE}` : `missing: ${i.message}`;
  if (i.code === "invalid_union") {
    // Name what is wrong inside the sourced number: its value, or its source/assumption text.
    const inner = i.errors.flat().find((e) => e.path[0] === "value") ?? i.errors.flat()[0];
    return inner ? `${inner.path.join(".") || "value"}: ${inner.message} (${SOURCED_SHAPE})` : SOURCED_SHAPE;
  }
  return i.message;
}

/** Shorthand: the plain number of a sourced field. */
export const num = (f: { value: number }) => f.value;
