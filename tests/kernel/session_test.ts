import assert from "node:assert/strict";
import { Session } from "../../kernel/session/session.ts";
import { permissionFlags } from "../../kernel/session/permissions.ts";
import { processesIn } from "./_helpers.ts";

Deno.test("a session granted nothing runs cells, and Deno's inspector needs no --allow-sys", async () => {
  await using session = await Session.start({ permissions: {} });
  const reply = await session.execute("let n: number = 20;\nn * 2 + 2");
  assert.equal(reply.status, "ok");
  const denied = await session.execute("Deno.hostname()");
  assert.equal(denied.error?.ename, "NotCapable");
  assert.match(denied.error!.evalue, /sys access/);
  const env = await session.execute('Deno.env.get("HOME")');
  assert.equal(env.error?.ename, "NotCapable");
  const net = await session.execute('await fetch("http://127.0.0.1:8080/")');
  assert.match(net.error!.evalue, /Requires net access/);
});

Deno.test("a timeout on a cell that waits abandons the wait and keeps the session's state", async () => {
  await using session = await Session.start({ permissions: {} });
  await session.execute("let kept = 41;");
  const reply = await session.execute("await new Promise(() => {});", { timeout: 0.5 });
  assert.equal(reply.status, "timeout");
  assert.equal(reply.kernelLost, false);
  assert.match(reply.cause!, /waiting .* the kernel kept its state/);
  const after = await session.execute("kept + 1");
  assert.deepEqual(after.outputs.map((o) => o.output_type === "execute_result" && o.data), [
    { "text/plain": "42" },
  ]);
});

Deno.test("a timeout stops a busy loop inside V8 and the session keeps its state", async () => {
  await using session = await Session.start({ permissions: {} });
  await session.execute("let kept = 41;");
  const reply = await session.execute("let spins = 0;\nwhile (true) spins++;", { timeout: 0.5 });
  assert.equal(reply.status, "timeout");
  assert.equal(reply.kernelLost, false);
  assert.match(reply.cause!, /V8 terminated it\) and the kernel kept its state/);
  const after = await session.execute("[kept, spins > 0]");
  assert.equal(
    after.outputs[0].output_type === "execute_result" && after.outputs[0].data["text/plain"],
    "[ 41, true ]",
  );
});

Deno.test("an interrupt the kernel cannot honour (blocked in a system call) stops the kernel; restart() gives a fresh one", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const fifo = `${dir}/never-written`;
    assert.ok((await new Deno.Command("mkfifo", { args: [fifo] }).output()).success);
    await using session = await Session.start({ permissions: { read: [dir] } });
    await session.execute("let lost = 1;");
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    const reply = await session.execute(`Deno.readTextFileSync(${JSON.stringify(fifo)})`, {
      signal: controller.signal,
    });
    assert.equal(reply.status, "interrupted");
    assert.equal(reply.kernelLost, true);
    assert.match(reply.cause!, /could not be stopped .* state is lost/);
    assert.equal(session.alive, false);
    await assert.rejects(() => session.execute("1"), /kernel is not running/);
    await session.restart();
    const fresh = await session.execute("typeof lost");
    assert.equal(fresh.executionCount, 1);
    assert.equal(
      fresh.outputs[0].output_type === "execute_result" && fresh.outputs[0].data["text/plain"],
      '"undefined"',
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the kernel's working directory is the notebook folder, where deno.json is found", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(
      `${dir}/deno.json`,
      JSON.stringify({ imports: { "answer": "./answer.ts" } }),
    );
    await Deno.writeTextFile(`${dir}/answer.ts`, "export const answer = 42;");
    await using session = await Session.start({ cwd: dir, permissions: { read: [dir] } });
    const reply = await session.execute(
      'import { answer } from "answer";\n[answer, Deno.cwd() === ' +
        JSON.stringify(await Deno.realPath(dir)) + "]",
    );
    assert.equal(reply.status, "ok", JSON.stringify(reply.outputs));
    assert.equal(
      reply.outputs[0].output_type === "execute_result" && reply.outputs[0].data["text/plain"],
      "[ 42, true ]",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("permissionFlags() turns granular grants into Deno flags, nothing for nothing", () => {
  assert.deepEqual(permissionFlags({}), []);
  assert.deepEqual(
    permissionFlags({
      read: ["/a", "/b", "/a"],
      write: ["/tmp/s"],
      net: ["example.com:443"],
      env: false,
      sys: true,
      denyRead: ["/a/secret"],
    }),
    [
      "--allow-read=/a,/b",
      "--allow-write=/tmp/s",
      "--allow-net=example.com:443",
      "--allow-sys",
      "--deny-read=/a/secret",
    ],
  );
  assert.throws(() => permissionFlags({ read: ["/a,b"] }), /must not contain ","/);
});

Deno.test("a kernel whose host is killed exits instead of lingering", async () => {
  const dir = await Deno.makeTempDir();
  const session = new URL("../../kernel/session/session.ts", import.meta.url).href;
  const host = new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      `import { Session } from ${JSON.stringify(session)};
       const s = await Session.start({ cwd: ${JSON.stringify(dir)}, permissions: {} });
       await s.execute("globalThis.ticks = 0; setInterval(() => ticks++, 10);");
       console.log("ready");
       await new Promise(() => {});`,
    ],
    stdout: "piped",
    stderr: "null",
  }).spawn();
  try {
    const reader = host.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    while (!text.includes("ready")) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
    reader.cancel();
    assert.equal(processesIn(dir).length, 1, "the kernel should be running");
    host.kill("SIGKILL"); // no chance to stop its kernel
    await host.status;
    const deadline = performance.now() + 10_000;
    while (processesIn(dir).length > 0 && performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.deepEqual(processesIn(dir), [], "the kernel outlived its host");
  } finally {
    for (const pid of processesIn(dir)) Deno.kill(pid, "SIGKILL");
    await Deno.remove(dir, { recursive: true });
  }
});
