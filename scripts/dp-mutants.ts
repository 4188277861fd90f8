// Curated mutants of the data-plane sources (dataplane/): wrong operators, bounds off by one, byte
// orders, field offsets, and bugs the fixtures once let through. Each mutant is applied to a temporary
// copy of dataplane/, built with the project's build (buildFirmware: compile, verify, sign), and the
// firmware's exact image bytes run against every packet fixture with the device's flash self-test
// (sim/testing/fixtures). A mutant is killed when at least one fixture fails.
//
//   npm run mutation:dp [-- --only NAME,NAME] [--suites SUITE,SUITE] [--jobs N] [--json FILE] [--keep] [--check] [--list]
//
// --suites: run only these fixture files (e.g. classify,arp-icmp,malformed,splice: what a subset kills).
// --check: only check that every mutant still applies to the sources (exactly one match), no build.
// Prints a table (mutant, result, killing fixtures) and writes JSON (default bench/results/dp-mutants.json).
// Exit status 0 unless a mutant no longer applies or the unmutated sources fail a fixture.
import { spawn } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { buildFirmware } from "../toolchain/build/build.js";
import { DATAPLANE_DIR, PROJECT_ROOT } from "../toolchain/build/compile.js";
import { decodeFirmware } from "../toolchain/image/format.js";
import { FIXTURE_SUITES, selfTest } from "../sim/testing/fixtures/index.js";

interface Mutant {
  name: string;
  /** Path under dataplane/. */
  file: string;
  find: string;
  replace: string;
  /** What the mutant breaks (or which bug it plants). */
  what: string;
  /** Why no packet fixture can tell the mutant from the original, when that is so. */
  equivalent?: string;
}

const FT = "lib/flow-table.ts";
const HTTP = "lib/http-request.ts";
const CSUM = "lib/checksum.ts";
const TCPH = "lib/check-tcp-header.ts";
const OPTS = "lib/tcp-options.ts";
const SPLICE = "splice/index.ts";
const CLASSIFY = "classify/index.ts";

export const MUTANTS: Mutant[] = [
  // Flow lookup (classify)
  { name: "lookup-ignores-ports", file: FT, what: "flow lookup ignores the port pair (planted bug)",
    find: "load<u32>(e + FLOW_KEY_DADDR) == daddr &&\n      load<u32>(e + FLOW_KEY_SPORT) == ports", replace: "load<u32>(e + FLOW_KEY_DADDR) == daddr" },
  { name: "lookup-source-port-only", file: FT, what: "flow lookup compares only the source port",
    find: "load<u32>(e + FLOW_KEY_SPORT) == ports", replace: "load<u16>(e + FLOW_KEY_SPORT) == <u16>ports" },
  { name: "lookup-dest-port-only", file: FT, what: "flow lookup compares only the destination port",
    find: "load<u32>(e + FLOW_KEY_SPORT) == ports", replace: "load<u16>(e + FLOW_KEY_SPORT + 2) == <u16>(ports >>> 16)" },
  { name: "lookup-ignores-saddr", file: FT, what: "flow lookup ignores the source address",
    find: "      load<u32>(e + FLOW_KEY_SADDR) == saddr &&\n", replace: "" },
  { name: "lookup-ignores-daddr", file: FT, what: "flow lookup ignores the destination address",
    find: "      load<u32>(e + FLOW_KEY_DADDR) == daddr &&\n", replace: "" },
  { name: "lookup-ignores-state", file: FT, what: "flow lookup matches FREE entries (one being removed)",
    find: "<i32>load<u8>(e + FLOW_STATE) != FLOW_STATE_FREE &&\n      ", replace: "" },
  { name: "lookup-skips-last-way", file: FT, what: "bucket probe stops one way short",
    find: "i < first + FLOW_WAYS;", replace: "i < first + FLOW_WAYS - 1;" },
  { name: "lookup-probes-extra-way", file: FT, what: "bucket probe runs one way into the next bucket",
    find: "i < first + FLOW_WAYS;", replace: "i <= first + FLOW_WAYS;",
    equivalent: "the extra entry belongs to the next bucket, where the host never puts a key of this bucket; past the last bucket it reads packet-buffer bytes that cannot equal a key" },
  { name: "bucket-mask-halved", file: FT, what: "bucket index masked to half the buckets",
    find: "(MAX_FLOWS / FLOW_WAYS - 1)", replace: "(MAX_FLOWS / FLOW_WAYS / 2 - 1)" },
  { name: "hash-words-swapped", file: FT, what: "flow hash over (daddr, saddr, ports)",
    find: "np.hash(saddr, daddr, ports)", replace: "np.hash(daddr, saddr, ports)" },

  // classify: the path of a segment
  { name: "closed-flow-left-to-splice", file: CLASSIFY, what: "classify does not drop CLOSED flows itself",
    find: "    if (state == FLOW_STATE_CLOSED) return drop(desc, REASON_TCP_CLOSED_FLOW);\n", replace: "",
    equivalent: "splice drops a CLOSED flow's segment with the same reason and counts it once: only the work differs" },
  { name: "to-cp-not-counted", file: CLASSIFY, what: "the TO_CP event counter is not raised",
    find: "  count(COUNTER_TO_CP);\n", replace: "" },
  { name: "service-port-byte-order", file: CLASSIFY, what: "service port compared in host byte order",
    find: "isServicePort(<u32>load<u16>(tcp + TCP_DPORT))", replace: "isServicePort(load16be(tcp, TCP_DPORT))" },
  { name: "service-count-unclamped", file: "lib/config.ts", what: "NUM_SERVICES not clamped to MAX_SERVICES",
    find: "  if (n > MAX_SERVICES) n = MAX_SERVICES;\n", replace: "" },
  { name: "service-clamp-off-by-one", file: "lib/config.ts", what: "services clamped to MAX_SERVICES - 1",
    find: "if (n > MAX_SERVICES) n = MAX_SERVICES;", replace: "if (n > MAX_SERVICES - 1) n = MAX_SERVICES - 1;" },
  { name: "port-mac-mask-narrow", file: "lib/config.ts", what: "port MAC index masked to 4 ports",
    find: "(port & (MAX_PORTS - 1))", replace: "(port & (MAX_PORTS / 2 - 1))" },

  // HTTP request recognition
  { name: "host-bound-removed", file: HTTP, what: "Host value copied and hashed at any length (planted bug)",
    find: "  if (len > HOST_MAX) return false;\n", replace: "" },
  { name: "host-bound-off-by-one", file: HTTP, what: "Host value of exactly HOST_MAX bytes refused",
    find: "if (len > HOST_MAX) return false;", replace: "if (len >= HOST_MAX) return false;" },
  { name: "host-lowercase-range", file: HTTP, what: "'[' lower-cased as a letter in the Host value",
    find: "c - 0x41 < 26 ? c | 0x20 : c", replace: "c - 0x41 < 27 ? c | 0x20 : c" },
  { name: "host-no-trailing-trim", file: HTTP, what: "blanks after the Host value are hashed",
    find: "  while (e > v && isSpace(<u32>load<u8>(e - 1))) e--;\n", replace: "" },
  { name: "host-cut-value-hashed", file: HTTP, what: "a Host value cut by the segment end is hashed",
    find: "if (e >= end) return false;", replace: "if (e > end) return false;" },
  { name: "host-name-case-sensitive", file: HTTP, what: "only \"Host:\" in that case is recognised",
    find: "(name | LOWER_5) == HOST_COLON", replace: "name == HOST_COLON" },
  { name: "host-name-bound", file: HTTP, what: "\"Host:\" needs a byte after it to be recognised",
    find: "line + 5 <= end", replace: "line + 5 < end",
    equivalent: "a line that is exactly \"Host:\" at the segment end has no complete value, which hashHost refuses anyway" },
  { name: "method-max-off-by-one", file: HTTP, what: "methods of MAX_METHOD + 1 letters accepted",
    find: "i - p < MAX_METHOD", replace: "i - p <= MAX_METHOD" },
  { name: "method-letter-range", file: HTTP, what: "'Z' not a method letter",
    find: "<u32>load<u8>(i) - 0x41 < 26", replace: "<u32>load<u8>(i) - 0x41 < 25" },
  { name: "url-char-range", file: HTTP, what: "'~' not a URL character",
    find: "- 0x21 < 0x5e", replace: "- 0x21 < 0x5d" },
  { name: "url-empty-accepted", file: HTTP, what: "an empty URL makes a request line",
    find: "if (j == url || j + 11 > end", replace: "if (j + 11 > end" },
  { name: "request-line-end-off-by-one", file: HTTP, what: "a request line ending at the payload's last byte refused",
    find: "j + 11 > end", replace: "j + 11 >= end" },
  { name: "version-digit-range", file: HTTP, what: "\"HTTP/1:\" accepted as a version",
    find: "<u32>load<u8>(j + 8) - 0x30 >= 10", replace: "<u32>load<u8>(j + 8) - 0x30 > 10" },
  { name: "request-line-lf-unchecked", file: HTTP, what: "CR without LF ends a request line",
    find: " || <u32>load<u8>(j + 10) != LF", replace: "" },
  { name: "headers-end-reads-past", file: HTTP, what: "CRLF CRLF looked for one byte past the payload",
    find: "line + 1 < end", replace: "line + 1 <= end" },
  { name: "payload-end-from-frame", file: HTTP, what: "payload taken to the frame's end (Ethernet padding included)",
    find: "const end = ip + <usize>load16be(ip, IP_TOTAL_LEN);", replace: "const end = frame + <usize>load<u16>(desc, 4); // DESC_LEN" },
  { name: "url-hash-short", file: HTTP, what: "URL hash over one byte less",
    find: "np.crc32(url, <u32>(j - url), 0)", replace: "np.crc32(url, <u32>(j - url - 1), 0)" },

  // Checksums
  { name: "tcp-csum-skips-odd-byte", file: TCPH, what: "TCP checksum check skips an odd trailing byte (planted bug)",
    find: "checksumAdd(tcp, segLen, pseudo)", replace: "checksumAdd(tcp, segLen & ~1, pseudo)" },
  { name: "tcp-csum-over-frame", file: TCPH, what: "TCP checksum summed to the frame's end (padding included)",
    find: "checksumAdd(tcp, segLen, pseudo)", replace: "checksumAdd(tcp, <u32>load<u16>(desc, 4) - 34, pseudo)" },
  { name: "tcp-pseudo-without-length", file: TCPH, what: "pseudo-header without the TCP length",
    find: "IPPROTO_TCP + segLen", replace: "IPPROTO_TCP" },
  { name: "csum-odd-byte-dropped", file: CSUM, what: "Internet checksum ignores an odd trailing byte",
    find: "  if (len & 1) sum += <u32>load<u8>(p) << 8;\n", replace: "" },
  { name: "csum-odd-byte-low-lane", file: CSUM, what: "odd trailing byte added as the low byte of a word",
    find: "<u32>load<u8>(p) << 8", replace: "<u32>load<u8>(p)" },
  { name: "csum-odd-byte-reads-next", file: CSUM, what: "odd trailing byte padded with the byte after it, not zero",
    find: "if (len & 1) sum += <u32>load<u8>(p) << 8;", replace: "if (len & 1) sum += <u32>bswap<u16>(load<u16>(p));" },
  { name: "ip-csum-unchecked", file: "lib/check-ipv4-header.ts", what: "IPv4 header checksum not verified",
    find: "  if (checksumFold(checksumAdd(ip, IP_MIN_HLEN, 0)) != 0) return drop(desc, REASON_IP_BAD_CHECKSUM);\n", replace: "" },
  { name: "ip-csum-short", file: "lib/check-ipv4-header.ts", what: "IPv4 header checksum over 19 bytes",
    find: "checksumAdd(ip, IP_MIN_HLEN, 0)", replace: "checksumAdd(ip, IP_MIN_HLEN - 1, 0)" },
  { name: "icmp-csum-over-frame", file: "lib/icmp-echo.ts", what: "ICMP checksum summed to the frame's end (padding included)",
    find: "checksumAdd(icmp, len, 0)", replace: "checksumAdd(icmp, <u32>load<u16>(desc, 4) - 34, 0)" },

  // Header checks and their bounds
  { name: "eth-trunc-off-by-one", file: "lib/check-ethernet.ts", what: "a frame of exactly 14 bytes counted as truncated Ethernet",
    find: "< ETH_HLEN) return drop", replace: "<= ETH_HLEN) return drop" },
  { name: "ip-trunc-off-by-one", file: "lib/check-ipv4-header.ts", what: "a bare 20-byte IPv4 header counted as truncated",
    find: "frameLen < ETH_HLEN + IP_MIN_HLEN", replace: "frameLen <= ETH_HLEN + IP_MIN_HLEN" },
  { name: "ip-total-len-off-by-one", file: "lib/check-ipv4-header.ts", what: "total length one byte past the frame accepted",
    find: "total > frameLen - ETH_HLEN", replace: "total > frameLen - ETH_HLEN + 1" },
  { name: "ip-mf-unchecked", file: "lib/ipv4.ts", what: "MF flag not taken as a fragment",
    find: "IP_MF_OFFSET_MASK: u32 = 0x3fff", replace: "IP_MF_OFFSET_MASK: u32 = 0x1fff" },
  { name: "tcp-trunc-off-by-one", file: TCPH, what: "a 19-byte TCP segment passes the length check",
    find: "segLen < TCP_MIN_HLEN", replace: "segLen < TCP_MIN_HLEN - 1" },
  { name: "tcp-doff-off-by-one", file: TCPH, what: "a data offset one byte past the segment accepted",
    find: "hlen > segLen", replace: "hlen > segLen + 1" },
  { name: "fin-alone-allowed", file: TCPH, what: "FIN without ACK allowed",
    find: "BAD_FLAG_COMBOS: u32 = 0xc8c8cbcb", replace: "BAD_FLAG_COMBOS: u32 = 0xc8c8cbc9" },
  { name: "options-past-end-off-by-one", file: OPTS, what: "an option one byte past the header accepted",
    find: "at + len > hlen", replace: "at + len > hlen + 1" },
  { name: "options-kind-in-last-byte", file: OPTS, what: "an option kind in the header's last byte reads its length past it",
    find: "if (at + 1 >= hlen) return TCP_OPTIONS_BAD;", replace: "if (at + 1 > hlen) return TCP_OPTIONS_BAD;",
    equivalent: "the length read past the header is >= 2 or < 2; either way at + len > hlen or len < 2 rejects the option as before" },
  { name: "options-ts-any-length", file: OPTS, what: "a timestamp option of another length than 10 translated",
    find: "kind == TCPOPT_TS && len == TCPOPT_TS_LEN", replace: "kind == TCPOPT_TS" },
  { name: "options-sack-inexact", file: OPTS, what: "a SACK option whose length is not 2 + 8n translated",
    find: "if (exact && blocks >= 1", replace: "if (blocks >= 1" },
  { name: "options-sack-zero-blocks", file: OPTS, what: "an empty SACK option (length 2) replaces an earlier one",
    find: "exact && blocks >= 1 && ", replace: "exact && " },
  { name: "arp-trunc-off-by-one", file: "lib/arp-reply.ts", what: "a 42-byte ARP frame counted as truncated",
    find: "< ETH_HLEN + ARP_LEN", replace: "<= ETH_HLEN + ARP_LEN" },
  { name: "icmp-trunc-off-by-one", file: "lib/icmp-echo.ts", what: "an 8-byte echo request counted as truncated",
    find: "len < ICMP_ECHO_HLEN", replace: "len <= ICMP_ECHO_HLEN" },

  // splice
  { name: "splice-index-bound", file: SPLICE, what: "entry MAX_FLOWS - 1 refused",
    find: "if (index >= MAX_FLOWS)", replace: "if (index >= MAX_FLOWS - 1)" },
  { name: "splice-ttl-bound", file: SPLICE, what: "TTL 1 forwarded as 0",
    find: "ttlProto < TTL_2", replace: "ttlProto < 0x0100" },
  { name: "splice-ip-csum-ignores-ttl", file: SPLICE, what: "IPv4 checksum update leaves out the TTL change",
    find: "csumDelta16(addrDelta, ttlProto, ttlProto - 0x100)", replace: "addrDelta" },
  { name: "splice-odd-even-swapped", file: SPLICE, what: "odd/even checksum update of a 32-bit field swapped",
    find: "odd ? csumDelta32Odd(csum, old, now) : csumDelta32(csum, old, now)", replace: "odd ? csumDelta32(csum, old, now) : csumDelta32Odd(csum, old, now)" },
  { name: "splice-ts-always-even", file: SPLICE, what: "timestamp option assumed at an even offset",
    find: "const odd = (ts & 1) != 0;", replace: "const odd = false;" },
  { name: "splice-tsecr-without-ack", file: SPLICE, what: "TSecr translated on a segment without ACK",
    find: "if (tcpFlags & TCP_ACK_FLAG) csum = translate32(tcp + ts + TCPOPT_TS_ECR", replace: "csum = translate32(tcp + ts + TCPOPT_TS_ECR" },
  { name: "splice-sack-last-edge", file: SPLICE, what: "the last SACK edge left untranslated",
    find: "edge < end; edge += 4", replace: "edge < end - 4; edge += 4" },
  { name: "splice-max-shift-15", file: SPLICE, what: "window shifts clamped at 15",
    find: "@inline const MAX_SHIFT: i32 = 16;", replace: "@inline const MAX_SHIFT: i32 = 15;" },
  { name: "splice-window-clamp-ge", file: SPLICE, what: "window clamp at >= 65535",
    find: "if (now > TCP_MAX_WINDOW)", replace: "if (now >= TCP_MAX_WINDOW)",
    equivalent: "a window of exactly 65535 is clamped to 65535" },
  { name: "splice-syn-window-scaled", file: SPLICE, what: "a SYN's window rescaled (RFC 7323 2.2)",
    find: "if (shift == 0 || (tcpFlags & TCP_SYN)) return csum;", replace: "if (shift == 0) return csum;" },
  { name: "splice-fin-reported-again", file: SPLICE, what: "a retransmitted FIN reported to the CP again",
    find: "  if ((seen & ~flowFlags) == 0) return;\n", replace: "" },
  { name: "splice-packets-not-counted", file: SPLICE, what: "FLOW_PACKETS not raised",
    find: "store<u32>(flow + FLOW_PACKETS, load<u32>(flow + FLOW_PACKETS) + 1)", replace: "store<u32>(flow + FLOW_PACKETS, load<u32>(flow + FLOW_PACKETS))" },
  { name: "splice-dmac-offset", file: SPLICE, what: "next-hop MAC read 2 bytes into the entry's field",
    find: "copyMac(frame + ETH_DST, flow + FLOW_NEW_DMAC);", replace: "copyMac(frame + ETH_DST, flow + FLOW_NEW_DMAC + 2);" },
  { name: "ts-ecr-offset", file: "lib/tcp.ts", what: "TSecr read one byte early",
    find: "TCPOPT_TS_ECR: usize = 6;", replace: "TCPOPT_TS_ECR: usize = 5;" },
  { name: "event-counter-offset", file: "lib/drop.ts", what: "event counters one slot early (into the reasons)",
    find: "(<usize>MAX_REASONS + <usize>counter) << 2", replace: "(<usize>MAX_REASONS - 1 + <usize>counter) << 2" },
];

// ---------------------------------------------------------------------------------------------

interface Result {
  name: string;
  file: string;
  what: string;
  status: "killed" | "survived" | "build-failed" | "not-applicable";
  /** Fixtures that failed on the mutant ("suite: description"). */
  killedBy: string[];
  /** Why the mutant survives when it is known to be equivalent. */
  equivalent?: string;
  error?: string;
  instructions?: Record<string, number>;
  seconds: number;
}

function applyMutant(src: string, m: Mutant): string {
  const at = src.indexOf(m.find);
  if (at < 0) throw new Error(`mutant ${m.name}: text not found in dataplane/${m.file}`);
  if (src.indexOf(m.find, at + 1) >= 0) throw new Error(`mutant ${m.name}: text found more than once in dataplane/${m.file}`);
  return src.slice(0, at) + m.replace + src.slice(at + m.find.length);
}

/** Copy dataplane/ to `dir`, apply `m` (if any), build with the project's build, run the self-test. */
async function runOne(m: Mutant | null, dir: string, suites?: string[]): Promise<Result> {
  const started = performance.now();
  const base = { name: m?.name ?? "(unmutated)", file: m?.file ?? "", what: m?.what ?? "the sources as they are", killedBy: [] as string[], equivalent: m?.equivalent };
  const seconds = () => Math.round((performance.now() - started) / 100) / 10;
  cpSync(DATAPLANE_DIR, dir, { recursive: true });
  if (m) {
    const path = join(dir, m.file);
    try {
      writeFileSync(path, applyMutant(readFileSync(path, "utf8"), m));
    } catch (e) {
      return { ...base, status: "not-applicable", error: (e as Error).message, seconds: seconds() };
    }
  }
  let out: string;
  try {
    out = (await buildFirmware({ dataplaneDir: dir, out: join(dir, "firmware.npfw") })).out;
  } catch (e) {
    const err = e as Error & { details?: string[] };
    const detail = [err.message, ...(Array.isArray(err.details) ? err.details : [])].join(" | ").replace(/\s+/g, " ").slice(0, 400);
    return { ...base, status: "build-failed", error: detail, seconds: seconds() };
  }
  const fw = decodeFirmware(readFileSync(out));
  const instructions = Object.fromEntries(fw.manifest.images.map((i) => [i.name, i.instructions]));
  const report = await selfTest(fw.manifest.images.map((i) => ({ name: i.name, wasm: fw.payloads.get(i.name)! })), { pipeline: fw.manifest.pipeline, suites });
  const killedBy = report.failed.map((f) => `${f.suite}: ${f.description}`);
  return { ...base, status: report.ok ? "survived" : "killed", killedBy, instructions, seconds: seconds() };
}

function table(results: Result[]): string {
  const rows = results.map((r) => {
    const by = r.status === "killed" ? `${r.killedBy.length} fixture(s): ${r.killedBy[0]}${r.killedBy.length > 1 ? ` (+${r.killedBy.length - 1})` : ""}`
      : r.status === "survived" ? (r.equivalent ? `equivalent: ${r.equivalent}` : `NOT COVERED: ${r.what}`)
        : r.error ?? "";
    return [r.name, r.status, by];
  });
  const w0 = Math.max(6, ...rows.map((r) => r[0].length));
  const w1 = Math.max(6, ...rows.map((r) => r[1].length));
  const line = (c: string[]) => `${c[0].padEnd(w0)}  ${c[1].padEnd(w1)}  ${c[2].length > 150 ? c[2].slice(0, 147) + "..." : c[2]}`;
  return [line(["mutant", "result", "killed by / why"]), line(["-".repeat(w0), "-".repeat(w1), "-".repeat(15)]), ...rows.map(line)].join("\n");
}

async function worker(names: string[], out: string, work: string, suites?: string[]): Promise<void> {
  const results: Result[] = [];
  for (const name of names) {
    const m = MUTANTS.find((x) => x.name === name)!;
    const r = await runOne(m, join(work, m.name), suites);
    results.push(r);
    process.stderr.write(`  ${r.name}: ${r.status}${r.status === "killed" ? ` (${r.killedBy.length})` : ""} in ${r.seconds} s\n`);
    writeFileSync(out, JSON.stringify(results));
  }
}

/** Run `names` in `jobs` child processes (each builds in turn), results in list order. */
async function parallel(names: string[], jobs: number, work: string, suites?: string[]): Promise<Result[]> {
  const chunks: string[][] = Array.from({ length: jobs }, () => []);
  names.forEach((n, i) => chunks[i % jobs].push(n));
  const script = fileURLToPath(import.meta.url);
  const outs = chunks.map((_, i) => join(work, `worker-${i}.json`));
  await Promise.all(chunks.map((chunk, i) => new Promise<void>((resolve, reject) => {
    if (!chunk.length) return resolve();
    const child = spawn(process.execPath, [...process.execArgv, script, "--worker", "--only", chunk.join(","), "--out", outs[i], "--work", work, ...(suites ? ["--suites", suites.join(",")] : [])], { stdio: ["ignore", "inherit", "inherit"] });
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`worker ${i} exited with ${code}`))));
  })));
  const byName = new Map<string, Result>();
  for (const [i, out] of outs.entries()) if (chunks[i].length) for (const r of JSON.parse(readFileSync(out, "utf8")) as Result[]) byName.set(r.name, r);
  return names.map((n) => byName.get(n)!);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      only: { type: "string" },
      suites: { type: "string" },
      jobs: { type: "string" },
      json: { type: "string", default: join(PROJECT_ROOT, "bench/results/dp-mutants.json") },
      keep: { type: "boolean", default: false },
      check: { type: "boolean", default: false },
      list: { type: "boolean", default: false },
      worker: { type: "boolean", default: false },
      out: { type: "string" },
      work: { type: "string" },
    },
  });
  const names = values.only ? values.only.split(",").map((s) => s.trim()).filter(Boolean) : MUTANTS.map((m) => m.name);
  const unknown = names.filter((n) => !MUTANTS.some((m) => m.name === n));
  if (unknown.length) {
    console.error(`dp-mutants: no mutant named ${unknown.join(", ")} (--list shows them)`);
    process.exit(2);
  }
  const suites = values.suites ? values.suites.split(",").map((s) => s.trim()).filter(Boolean) : undefined;
  const unknownSuites = (suites ?? []).filter((n) => !FIXTURE_SUITES.some((s) => s.name === n));
  if (unknownSuites.length) {
    console.error(`dp-mutants: no fixture suite named ${unknownSuites.join(", ")} (suites: ${FIXTURE_SUITES.map((s) => s.name).join(", ")})`);
    process.exit(2);
  }
  if (values.worker) return worker(names, values.out!, values.work!, suites);
  if (values.list) {
    for (const m of MUTANTS) console.log(`${m.name.padEnd(30)} dataplane/${m.file.padEnd(26)} ${m.what}${m.equivalent ? " [equivalent]" : ""}`);
    return;
  }
  const dupes = MUTANTS.map((m) => m.name).filter((n, i, a) => a.indexOf(n) !== i);
  if (dupes.length) throw new Error(`dp-mutants: duplicate mutant names ${dupes.join(", ")}`);
  const stale: string[] = [];
  for (const m of MUTANTS.filter((x) => names.includes(x.name))) {
    try {
      applyMutant(readFileSync(join(DATAPLANE_DIR, m.file), "utf8"), m);
    } catch (e) {
      stale.push((e as Error).message);
    }
  }
  if (values.check) {
    console.log(stale.length ? stale.join("\n") : `all ${names.length} mutants apply to dataplane/ (exactly one match each)`);
    process.exit(stale.length ? 1 : 0);
  }

  const started = performance.now();
  const jobs = Math.max(1, Math.min(names.length, Number(values.jobs ?? Math.min(4, availableParallelism()))));
  const fixtures = FIXTURE_SUITES.filter((s) => !suites || suites.includes(s.name)).reduce((n, s) => n + s.fixtures.length, 0);
  const work = mkdtempSync(join(tmpdir(), "npswitch-dp-mutants-"));
  console.log(`dp-mutants: ${names.length} mutants of dataplane/, each built (buildFirmware) and self-tested on ${fixtures} packet fixtures${suites ? ` (suites ${suites.join(", ")})` : ""}; ${jobs} job(s); work dir ${work}`);
  try {
    const baseline = await runOne(null, join(work, "unmutated"), suites);
    if (baseline.status !== "survived") {
      console.error(`dp-mutants: the unmutated sources do not pass: ${baseline.status} ${baseline.error ?? baseline.killedBy.join("; ")}`);
      process.exit(1);
    }
    console.log(`  unmutated: all fixtures pass (instructions ${Object.entries(baseline.instructions!).map(([k, v]) => `${k} ${v}`).join(", ")}; ${baseline.seconds} s)`);
    const results = jobs > 1 ? await parallel(names, jobs, work, suites) : await (async () => {
      const out = join(work, "worker-0.json");
      await worker(names, out, work, suites);
      return JSON.parse(readFileSync(out, "utf8")) as Result[];
    })();
    const seconds = Math.round((performance.now() - started) / 1000);
    const count = (s: Result["status"]) => results.filter((r) => r.status === s).length;
    const killed = count("killed");
    const built = killed + count("survived");
    const equivalent = results.filter((r) => r.status === "survived" && r.equivalent).length;
    console.log("\n" + table(results) + "\n");
    console.log(`killed ${killed} of ${built} built mutants (${((100 * killed) / Math.max(1, built)).toFixed(1)}%); ` +
      `${built - killed} survived (${equivalent} equivalent, ${built - killed - equivalent} not covered); ` +
      `${count("build-failed")} failed to build; ${count("not-applicable")} no longer apply; ${seconds} s`);
    const survivors = results.filter((r) => r.status === "survived");
    if (survivors.length) {
      console.log("survivors:");
      for (const r of survivors) console.log(`  ${r.name} (dataplane/${r.file}): ${r.equivalent ? `equivalent: ${r.equivalent}` : `not covered yet: ${r.what}`}`);
    }
    const failedBuilds = results.filter((r) => r.status === "build-failed");
    if (failedBuilds.length) {
      console.log("build failures (not counted as killed):");
      for (const r of failedBuilds) console.log(`  ${r.name}: ${r.error}`);
    }
    mkdirSync(dirname(values.json!), { recursive: true });
    writeFileSync(values.json!, JSON.stringify({
      date: new Date().toISOString(), command: ["npm run mutation:dp", ...(process.argv.slice(2).length ? ["--", ...process.argv.slice(2)] : [])].join(" "), seconds, jobs, fixtures, suites: suites ?? "all",
      baseline: { instructions: baseline.instructions },
      summary: { mutants: results.length, killed, survived: built - killed, equivalent, buildFailed: count("build-failed"), notApplicable: count("not-applicable") },
      results,
    }, null, 1) + "\n");
    console.log(`wrote ${relative(process.cwd(), values.json!)}`);
    if (stale.length || count("not-applicable")) process.exit(1);
  } finally {
    if (!values.keep) rmSync(work, { recursive: true, force: true });
  }
}

/** A copy of dataplane/ at `dir` with mutant `name` applied (for running other tests on a mutant). */
export function writeMutant(name: string, dir: string): void {
  const m = MUTANTS.find((x) => x.name === name);
  if (!m) throw new Error(`no mutant named ${name}`);
  cpSync(DATAPLANE_DIR, dir, { recursive: true });
  const path = join(dir, m.file);
  writeFileSync(path, applyMutant(readFileSync(path, "utf8"), m));
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
