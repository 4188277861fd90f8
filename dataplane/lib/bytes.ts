// Network byte order at the load and the store: big-endian fields read and written as host values.

@inline export function load16be(ptr: usize, offset: usize = 0): u32 {
  return <u32>bswap<u16>(load<u16>(ptr + offset));
}

@inline export function load32be(ptr: usize, offset: usize = 0): u32 {
  return bswap<u32>(load<u32>(ptr + offset));
}

@inline export function store16be(ptr: usize, value: u32, offset: usize = 0): void {
  store<u16>(ptr + offset, bswap<u16>(<u16>value));
}

@inline export function store32be(ptr: usize, value: u32, offset: usize = 0): void {
  store<u32>(ptr + offset, bswap<u32>(value));
}

/** Copy a 6-byte MAC address (fields are 2-byte aligned in every layout). */
@inline export function copyMac(dst: usize, src: usize): void {
  store<u32>(dst, load<u32>(src));
  store<u16>(dst + 4, load<u16>(src + 4));
}
