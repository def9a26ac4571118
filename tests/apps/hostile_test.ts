/**
 * The apps' servers against a hostile user: a PNG that unpacks to far more than its pixels (a
 * decompression bomb), malformed JSON, wrong methods, folders and `..` in file requests (also as
 * raw bytes no browser would send), a client that stalls half-way through its upload — each gets
 * a clear 4xx, quickly, and the server keeps answering everyone else.
 */
import assert from "node:assert/strict";
import { unzlibSync } from "fflate";
import { encode as encodePng } from "fast-png";
import { startClassifyApp } from "../../lessons/apps/classify.ts";
import { startDigitsApp } from "../../lessons/apps/digits.ts";
import { pngInflatesBeyond, pngRawSize } from "../../lessons/apps/_image_size.ts";
import { pngBomb, saveTinyClassifier, testCardPng } from "./_fixtures.ts";

const leaks = { sanitizeResources: false, sanitizeOps: false };

async function request(url: string, init: RequestInit = {}) {
  const response = await fetch(url, init);
  const text = await response.text();
  let body: { error?: string; [key: string]: unknown } = {};
  try {
    body = JSON.parse(text);
  } catch { /* not JSON: the assertions below say so */ }
  return { status: response.status, headers: response.headers, body, text };
}

/** Send raw bytes to the server (paths no `fetch` would send as they are); the status line back. */
async function rawRequest(url: string, head: string): Promise<string> {
  const { hostname, port } = new URL(url);
  const connection = await Deno.connect({ hostname, port: Number(port) });
  try {
    await connection.write(new TextEncoder().encode(head));
    const buffer = new Uint8Array(4096);
    const n = await connection.read(buffer);
    return new TextDecoder().decode(buffer.subarray(0, n ?? 0)).split("\r\n")[0];
  } finally {
    connection.close();
  }
}

/** The image data of a PNG (its IDAT chunks joined), as `fflate` inflates it. */
function inflatedImageData(png: Uint8Array): number {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const parts: Uint8Array[] = [];
  for (let offset = 8; offset + 8 <= png.length;) {
    const length = view.getUint32(offset);
    const type = new TextDecoder().decode(png.subarray(offset + 4, offset + 8));
    if (type === "IDAT") parts.push(png.subarray(offset + 8, offset + 8 + length));
    offset += 12 + length;
  }
  const joined = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    joined.set(part, at);
    at += part.length;
  }
  return unzlibSync(joined).length;
}

Deno.test("pngRawSize() is exactly what real PNGs unpack to: grey to RGBA, 8 and 16 bits, interlaced or not", () => {
  for (const [width, height] of [[1, 1], [3, 5], [17, 9], [33, 1], [8, 8], [2, 11]]) {
    for (const channels of [1, 2, 3, 4]) {
      for (const depth of [8, 16] as const) {
        for (const interlace of ["null", "Adam7"] as const) {
          const size = width * height * channels;
          const data = depth === 8 ? new Uint8Array(size) : new Uint16Array(size);
          for (let i = 0; i < size; i++) data[i] = (i * 37) % 251;
          const png = encodePng({ width, height, data, channels, depth }, { interlace });
          const what = `${width}×${height}, ${channels} channels, ${depth} bits, ${interlace}`;
          assert.equal(pngRawSize(png), inflatedImageData(png), what);
          assert.equal(pngInflatesBeyond(png, pngRawSize(png)!), false, what);
        }
      }
    }
  }
  assert.equal(pngRawSize(new TextEncoder().encode("not a png at all, no")), undefined);
});

Deno.test({
  name:
    "classify app refuses a small PNG that unpacks to 20 MB (a decompression bomb) with a 422 before decoding it, and lives on",
  ...leaks,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "convlab-apps-hostile-" });
    const app = await startClassifyApp({ port: 0, model: await saveTinyClassifier(dir) });
    const api = `${app.url}api/classify`;
    try {
      const bomb = pngBomb(16, 20);
      assert.ok(bomb.length < 100_000, `the bomb is small: ${bomb.length} bytes`);
      const [refused, ok] = await Promise.all([
        request(api, { method: "POST", body: bomb, headers: { "x-file-name": "bomb.png" } }),
        request(api, { method: "POST", body: await testCardPng() }),
      ]);
      assert.equal(refused.status, 422, refused.text);
      assert.match(
        refused.body.error!,
        /“bomb\.png” is not a usable PNG: its 16×16 pixels need 272 bytes of image data, but its compressed data unpacks to more \(a decompression bomb/,
      );
      assert.equal(ok.status, 200, "an upload beside it is answered");
      // A real PNG with the same header is fine: the check counts what the pixels need.
      const grey = encodePng({ width: 16, height: 16, data: new Uint8Array(256), channels: 1 });
      const fine = await request(api, { method: "POST", body: new Uint8Array(grey) });
      assert.equal(fine.status, 200, fine.text);
    } finally {
      await app.shutdown();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "classify app answers malformed JSON, JSON that is not an object and wrong methods with 400 and 405 (Allow header), never 500, and serves others while one client stalls mid-upload",
  ...leaks,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "convlab-apps-hostile-" });
    const app = await startClassifyApp({ port: 0, model: await saveTinyClassifier(dir) });
    const gradcam = `${app.url}api/gradcam`;
    try {
      for (const body of ["{", "", "null", "[1, 2]", "42", '"p1"', "{'id': 'p1'}"]) {
        const answer = await request(gradcam, { method: "POST", body });
        assert.equal(answer.status, 400, `${JSON.stringify(body)}: ${answer.text}`);
        assert.match(answer.body.error!, /Send \{id, classIndex\} as (a )?JSON/, body);
      }
      const tooLong = await request(gradcam, { method: "POST", body: " ".repeat(20_000) });
      assert.equal(tooLong.status, 413);
      assert.equal(tooLong.body.error, "The request is 20 kB; the limit is 10 kB.");
      const noPicture = await request(gradcam, { method: "POST", body: '{"id": {"x": 1}}' });
      assert.equal(noPicture.status, 410);

      for (
        const [method, path, allow] of [
          ["GET", "api/classify", "POST"],
          ["PUT", "api/classify", "POST"],
          ["GET", "api/gradcam", "POST"],
          ["DELETE", "api/train", "POST"],
          ["POST", "api/model", "GET, HEAD"],
          ["PATCH", "", "GET, HEAD"],
          ["POST", "static/common.js", "GET, HEAD"],
        ]
      ) {
        const answer = await request(`${app.url}${path}`, { method });
        assert.equal(answer.status, 405, `${method} /${path}`);
        assert.equal(answer.headers.get("allow"), allow, `${method} /${path}`);
        assert.match(answer.body.error!, new RegExp(`${method} is not allowed on /${path}`));
      }
      // A client that promises 1 MB and stops after 10 bytes holds its own request only.
      const { hostname, port } = new URL(app.url);
      const stalled = await Deno.connect({ hostname, port: Number(port) });
      await stalled.write(
        new TextEncoder().encode(
          "POST /api/classify HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n0123456789",
        ),
      );
      const answers = await Promise.all([
        request(app.url),
        request(`${app.url}api/model`),
        request(`${app.url}api/classify`, { method: "POST", body: await testCardPng() }),
      ]);
      assert.deepEqual(answers.map((a) => a.status), [200, 200, 200]);
      stalled.close();
    } finally {
      await app.shutdown();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "digits app answers folders, encoded and raw '..' paths with 404s (never a broken response)",
  ...leaks,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "convlab-apps-hostile-" });
    const app = await startDigitsApp({ port: 0, model: await saveTinyClassifier(dir) });
    try {
      for (
        const path of [
          "static/",
          "static/.",
          "static/%2e",
          "static//",
          "vendor/",
          "model/",
          "model/.",
          "static/..%2f..%2f..%2fdeno.json",
          "static/%2e%2e%2f%2e%2e%2fcli.ts",
          "static/%00common.js",
          "static/%E0%A4%A",
        ]
      ) {
        const answer = await request(`${app.url}${path}`);
        assert.equal(answer.status, 404, `/${path}: ${answer.text.slice(0, 80)}`);
        assert.ok(answer.body.error, `/${path} says why`);
      }
      for (
        const path of ["/static/../../cli.ts", "/static/../../../../etc/passwd", "/model/../x"]
      ) {
        const status = await rawRequest(app.url, `GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
        assert.match(status, /^HTTP\/1\.1 404/, path);
      }
    } finally {
      await app.shutdown();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
