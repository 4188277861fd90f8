// The NP intrinsics (abi/abi.ts INTRINSICS): the only functions an image may import.

/** Copy `bytes` from `addr` onto scratch ring `ring`; 1 on success, 0 when the ring is full. */
@external("np", "ring_put") export declare function ring_put(ring: i32, addr: usize, bytes: i32): i32;
/** Copy the next message of `ring` to `addr`; 1 when one was there, 0 when empty. */
@external("np", "ring_get") export declare function ring_get(ring: i32, addr: usize, bytes: i32): i32;
/** The hash unit over three 32-bit words (host model: abi/hash.ts npHash). */
@external("np", "hash") export declare function hash(a: u32, b: u32, c: u32): u32;
/** The CRC unit: CRC-32 (IEEE 802.3) over `len` bytes at `addr`, continuing from `seed` (0 to start). */
@external("np", "crc32") export declare function crc32(addr: usize, len: u32, seed: u32): u32;
/** The ME timestamp counter: one tick per 16 ME cycles, wrapping at 2^32. */
@external("np", "timestamp") export declare function timestamp(): u32;
/** Voluntary context swap to the next ready hardware thread. */
@external("np", "ctx_swap") export declare function ctx_swap(): void;
