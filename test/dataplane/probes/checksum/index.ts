// Probe image exposing dataplane/lib/checksum.ts (RFC 1071 / RFC 1624) to the checksum property test.
import { checksumAdd, checksumFold, csumReplace16, csumReplace32, csumDelta32Odd, csumApply } from "../../../../dataplane/lib/checksum";

export function init(): void {}
export function process(desc: usize): i32 { return <i32>desc; }

export function add(ptr: usize, len: u32, sum: u32): u32 { return checksumAdd(ptr, len, sum); }
export function fold(sum: u32): u32 { return checksumFold(sum); }
export function replace16(check: u32, oldWord: u32, newWord: u32): u32 { return csumReplace16(<u16>check, <u16>oldWord, <u16>newWord); }
export function replace32(check: u32, oldValue: u32, newValue: u32): u32 { return csumReplace32(<u16>check, oldValue, newValue); }
export function replace32Odd(check: u32, oldValue: u32, newValue: u32): u32 { return csumApply(check, csumDelta32Odd(0, oldValue, newValue)); }
