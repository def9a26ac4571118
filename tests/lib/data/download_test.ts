import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import * as cl from "../../../lib/mod.ts";
import { downloadFile, type DownloadProgress } from "../../../lib/data/download.ts";
import type { ManifestFile } from "../../../lib/data/manifest.ts";
import { main as dataCli } from "../../../lib/data/cli.ts";
import { skipUnless } from "../../_skip.ts";
import { hasDebianFashionMnist, tempDir } from "./_fixtures.ts";

const { DatasetUnavailableError } = cl.datasets;

/** A real HTTP server on 127.0.0.1 serving `files` (path → bytes), counting requests. */
function serve(files: Record<string, Uint8Array | ((req: Request) => Response)>) {
  const requests: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const path = new URL(req.url).pathname;
    requests.push(path);
    const body = files[path];
    if (body === undefined) return new Response("not found", { status: 404 });
    return typeof body === "function" ? body(req) : new Response(body as Uint8Array<ArrayBuffer>);
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    requests,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

function manifestFile(name: string, bytes: Uint8Array, urls: string[]): ManifestFile {
  return {
    role: "data",
    name,
    urls,
    size: bytes.length,
    sha256: createHash("sha256").update(bytes).digest("hex"),
  };
}

const payload = Uint8Array.from({ length: 200_000 }, (_, i) => (i * 7) & 255);

Deno.test("downloadFile() fetches over HTTP, checks sha256 and renames into place", async () => {
  await using server = serve({ "/d/blob.bin": payload });
  await using dir = await tempDir();
  const progress: DownloadProgress[] = [];
  const file = manifestFile("blob.bin", payload, [`${server.url}/d/blob.bin`]);
  const path = await downloadFile(file, join(dir.path, "cache"), {
    onProgress: (p) => progress.push(p),
    mirror: "",
  });
  assert.equal(path, join(dir.path, "cache", "blob.bin"));
  assert.deepEqual(await Deno.readFile(path), payload);
  assert.equal(progress.at(-1)?.done, true);
  assert.equal(progress.at(-1)?.received, payload.length);
  assert.deepEqual([...Deno.readDirSync(join(dir.path, "cache"))].map((e) => e.name), [
    "blob.bin",
  ]);
});

Deno.test("downloadFile() rejects bytes whose sha256 differs and leaves no file behind", async () => {
  const wrong = payload.slice();
  wrong[1234] ^= 1;
  await using server = serve({ "/blob.bin": wrong });
  await using dir = await tempDir();
  const file = manifestFile("blob.bin", payload, [`${server.url}/blob.bin`]);
  await assert.rejects(
    () => downloadFile(file, dir.path, { onProgress() {}, mirror: "" }),
    /Cannot download blob\.bin:\n {2}http:\/\/127\.0\.0\.1:\d+\/blob\.bin: Checksum mismatch .*expected sha256 [0-9a-f]{64}, got [0-9a-f]{64}/,
  );
  assert.deepEqual([...Deno.readDirSync(dir.path)], []);
});

Deno.test("downloadFile() tries the mirror first, then the canonical URLs", async () => {
  await using server = serve({ "/canonical/blob.bin": payload });
  await using dir = await tempDir();
  const file = manifestFile("blob.bin", payload, [`${server.url}/canonical/blob.bin`]);
  await downloadFile(file, dir.path, { onProgress() {}, mirror: `${server.url}/mirror/` });
  assert.deepEqual(server.requests, ["/mirror/blob.bin", "/canonical/blob.bin"]);
});

Deno.test("downloadFile() reports a connection that ends early", async () => {
  await using server = serve({ "/blob.bin": () => new Response(payload.slice(0, 5000)) });
  await using dir = await tempDir();
  const file = manifestFile("blob.bin", payload, [`${server.url}/blob.bin`]);
  await assert.rejects(
    () => downloadFile(file, dir.path, { onProgress() {}, mirror: "" }),
    /incomplete: received 5000 of 200000 bytes/,
  );
  assert.deepEqual([...Deno.readDirSync(dir.path)], []);
});

Deno.test("downloadFile() reports a transfer cut off mid-body as dropped (not offline) and keeps no part", async () => {
  // A raw server that promises the whole file, sends a quarter of it and hangs up.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const serving = (async () => {
    for await (const conn of listener) {
      await conn.read(new Uint8Array(4096));
      const head = `HTTP/1.1 200 OK\r\nContent-Length: ${payload.length}\r\n\r\n`;
      await conn.write(new TextEncoder().encode(head));
      await conn.write(payload.subarray(0, 50_000));
      conn.close();
    }
  })();
  await using dir = await tempDir();
  const file = manifestFile("blob.bin", payload, [`http://127.0.0.1:${port}/blob.bin`]);
  try {
    await assert.rejects(
      () => downloadFile(file, dir.path, { onProgress() {}, mirror: "" }),
      (e: Error) => {
        assert.match(
          e.message,
          /blob\.bin: the connection dropped after \d[\d,]* of 200,000 bytes/,
        );
        assert.doesNotMatch(e.message, /offline/);
        return true;
      },
    );
    assert.deepEqual([...Deno.readDirSync(dir.path)], [], "no partial file is left");
  } finally {
    listener.close();
    await serving.catch(() => {});
  }
});

Deno.test("fetchDataset() offline: the error names the URLs to fetch and the cache folder", async () => {
  // A port that refuses connections: listen, note it, close.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  await using cache = await tempDir();
  await assert.rejects(
    () =>
      cl.datasets.fetchDataset("mnist", {
        cacheDir: cache.path,
        mirror: `http://127.0.0.1:${port}`,
        canonicalUrls: false,
        onProgress() {},
      }),
    (e: unknown) => {
      assert.ok(e instanceof DatasetUnavailableError);
      assert.equal(e.dataset, "mnist");
      assert.match(e.message, /train-images-idx3-ubyte\.gz: no connection/);
      assert.match(e.message, /https:\/\/storage\.googleapis\.com\/cvdf-datasets\/mnist\//);
      assert.ok(e.message.includes(join(cache.path, "datasets", "mnist")));
      return true;
    },
  );
});

Deno.test("fetchDataset() refuses a mirror serving other bytes (checksum), caching nothing", async () => {
  // The right size (9,912,422 bytes), the wrong content.
  await using server = serve({ "/train-images-idx3-ubyte.gz": new Uint8Array(9912422) });
  await using cache = await tempDir();
  await assert.rejects(
    () =>
      cl.datasets.fetchDataset("mnist", {
        cacheDir: cache.path,
        mirror: server.url,
        canonicalUrls: false,
        onProgress() {},
      }),
    (e: unknown) => {
      assert.ok(e instanceof DatasetUnavailableError);
      assert.match(e.message, /train-images-idx3-ubyte\.gz: Checksum mismatch/);
      assert.match(
        e.message,
        /expected sha256 440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609/,
      );
      return true;
    },
  );
  const dir = join(cache.path, "datasets", "mnist");
  assert.deepEqual([...Deno.readDirSync(dir)], []);
});

Deno.test({
  name:
    "fetchDataset() downloads Fashion-MNIST from a local mirror; fashionMnist() reads the cache",
  ...skipUnless(hasDebianFashionMnist(), "Debian dataset-fashion-mnist is not installed"),
  async fn() {
    const debian = "/usr/share/datasets/fashion-mnist";
    const files: Record<string, Uint8Array> = {};
    for (const entry of Deno.readDirSync(debian)) {
      files[`/fm/${entry.name}`] = await Deno.readFile(join(debian, entry.name));
    }
    await using server = serve(files);
    await using cache = await tempDir();
    const dir = await cl.datasets.fetchDataset("fashion-mnist", {
      cacheDir: cache.path,
      mirror: `${server.url}/fm`,
      canonicalUrls: false,
      onProgress() {},
    });
    assert.equal(server.requests.length, 4);
    const data = await cl.datasets.fashionMnist({ cacheDir: cache.path, subset: 100, quiet: true });
    assert.equal(data.info.origin, dir);
    assert.equal(data.info.availableTrain, 60000);
    assert.match(data.summary(), /Fashion-MNIST: full dataset/);
    // A second fetch finds everything cached and downloads nothing.
    await cl.datasets.fetchDataset("fashion-mnist", {
      cacheDir: cache.path,
      mirror: `${server.url}/fm`,
      canonicalUrls: false,
    });
    assert.equal(server.requests.length, 4);
  },
});

Deno.test("deno task data: rejects an unknown dataset and an unknown command", async () => {
  const log = console.error;
  const errors: string[] = [];
  console.error = (...args: unknown[]) => errors.push(args.join(" "));
  try {
    assert.equal(await dataCli(["fetch", "imagenet"]), 2);
    assert.equal(await dataCli(["frobnicate"]), 2);
  } finally {
    console.error = log;
  }
  assert.match(errors[0], /unknown dataset imagenet; choose from mnist, fashion-mnist, cifar10/);
  assert.match(errors[1], /unknown command "frobnicate"/);
});

Deno.test("downloadFile() without onProgress prints a few progress lines, the last one done", async () => {
  await using server = serve({ "/blob.bin": payload });
  await using dir = await tempDir();
  const lines: string[] = [];
  const log = console.log;
  console.log = (...args: unknown[]) => lines.push(args.join(" "));
  try {
    const file = manifestFile("blob.bin", payload, [`${server.url}/blob.bin`]);
    await downloadFile(file, dir.path, { mirror: "" });
  } finally {
    console.log = log;
  }
  assert.ok(lines.length >= 2 && lines.length <= 6, lines.join("\n"));
  assert.match(lines[0], /^Downloading http:\/\/127\.0\.0\.1:\d+\/blob\.bin: /);
  assert.match(lines.at(-1)!, /200 kB of 200 kB \(100%\) — done, checksum ok$/);
});
