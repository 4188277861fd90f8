// Echo server behind each testnet nginx (scripts/testnet.sh proxies POST /api/echo to it): answers
// every request with what arrived, so a test can check that a body crossed the switch intact.
//   default:    200 application/json {"backend","method","url","length","sha256"} of the body
//   ?raw=1:     200 application/octet-stream, the body itself
//   GET /health 200 "ok"
// Responses carry Content-Length; connections are kept alive longer than nginx keeps idle upstream
// connections, so nginx is always the side that closes an idle one.
// usage: node scripts/echo-server.mjs --name web1 [--listen 127.0.0.1:8081]
import { createHash } from "node:crypto";
import { createServer } from "node:http";
import { parseArgs } from "node:util";

const { values } = parseArgs({ options: { name: { type: "string" }, listen: { type: "string", default: "127.0.0.1:8081" } } });
if (!values.name) {
  console.error("echo-server: --name is required");
  process.exit(2);
}
const backend = values.name;
const [host, port] = values.listen.split(":");

const server = createServer((req, res) => {
  const hash = createHash("sha256");
  const raw = new URL(req.url ?? "/", "http://x").searchParams.get("raw") === "1";
  const chunks = [];
  let length = 0;
  req.on("data", (chunk) => {
    hash.update(chunk);
    length += chunk.length;
    if (raw) chunks.push(chunk);
  });
  req.on("end", () => {
    let body;
    let type;
    if (req.url === "/health") {
      body = Buffer.from("ok\n");
      type = "text/plain";
    } else if (raw) {
      body = Buffer.concat(chunks);
      type = "application/octet-stream";
    } else {
      const summary = { backend, method: req.method, url: req.url, length, sha256: hash.digest("hex") };
      body = Buffer.from(JSON.stringify(summary) + "\n");
      type = "application/json";
    }
    res.writeHead(200, { "Content-Type": type, "Content-Length": body.length });
    res.end(body);
  });
});
server.keepAliveTimeout = 120_000;
server.headersTimeout = 130_000;
server.requestTimeout = 0;
server.listen(Number(port), host, () => console.log(`echo-server ${backend} listening on ${host}:${port}`));
process.on("SIGTERM", () => process.exit(0));
