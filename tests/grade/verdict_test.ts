/**
 * The host decides whether a cell failed from what V8 reports, not from what the child manages
 * to send: an error whose getters throw must not turn a failing test cell into a passing one.
 */
import assert from "node:assert/strict";
import { Session } from "../../kernel/session/mod.ts";

Deno.test("Session.execute() reports an error whose name, message and stack getters throw", async () => {
  const session = await Session.start({ cwd: Deno.cwd(), permissions: {} });
  try {
    await session.execute(`
      function evilError() {
        const error = new Error("nope");
        for (const key of ["name", "message", "stack"]) {
          Object.defineProperty(error, key, { get() { throw error; } });
        }
        return error;
      }`);
    const reply = await session.execute(`throw evilError();`);
    assert.equal(reply.status, "error");
    assert.equal(reply.error?.ename, "Error");
    const after = await session.execute(`"still alive"`);
    assert.equal(after.status, "ok", "the session survives");
  } finally {
    await session.close();
  }
});
