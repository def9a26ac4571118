/**
 * A minimal Chrome DevTools Protocol client over a WebSocket: enough to drive a child's V8
 * inspector (`Runtime.*`).
 *
 * @module
 */

/** A V8 `Runtime.RemoteObject`. */
export interface RemoteObject {
  type: string;
  subtype?: string;
  className?: string;
  value?: unknown;
  unserializableValue?: string;
  description?: string;
  objectId?: string;
}

/** A V8 `Runtime.CallFrame`. */
export interface CallFrame {
  functionName: string;
  scriptId: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

/** A V8 `Runtime.ExceptionDetails`. */
export interface ExceptionDetails {
  text: string;
  lineNumber: number;
  columnNumber: number;
  exception?: RemoteObject;
  stackTrace?: { callFrames: CallFrame[] };
}

/** Result of `Runtime.evaluate` and `Runtime.callFunctionOn`. */
export interface EvaluateResult {
  result: RemoteObject;
  exceptionDetails?: ExceptionDetails;
}

/** The connection closed before a reply came. */
export class ConnectionClosedError extends Error {
  override name = "ConnectionClosedError";
}

/** An argument for `Runtime.callFunctionOn`, from a remote object or a plain value. */
export function callArgument(value: RemoteObject | { value: unknown }): Record<string, unknown> {
  if ("objectId" in value && value.objectId) return { objectId: value.objectId };
  if ("unserializableValue" in value && value.unserializableValue) {
    return { unserializableValue: value.unserializableValue };
  }
  return "value" in value ? { value: value.value } : {};
}

/** A DevTools protocol connection. */
export class CdpConnection {
  #socket: WebSocket;
  #nextId = 1;
  #pending = new Map<
    number,
    { method: string; resolve(v: unknown): void; reject(e: Error): void }
  >();
  #listeners: ((method: string, params: Record<string, unknown>) => void)[] = [];
  /** Resolves when the connection is closed. */
  readonly closed: Promise<void>;

  private constructor(socket: WebSocket) {
    this.#socket = socket;
    let markClosed: () => void;
    this.closed = new Promise((resolve) => markClosed = resolve);
    socket.onmessage = (event) => {
      const message = JSON.parse(String(event.data));
      if (typeof message.id === "number") {
        const waiter = this.#pending.get(message.id);
        if (!waiter) return;
        this.#pending.delete(message.id);
        if (message.error) {
          waiter.reject(
            new Error(`${message.error.message} (${message.error.code}, ${waiter.method})`),
          );
        } else waiter.resolve(message.result);
      } else if (typeof message.method === "string") {
        for (const listener of this.#listeners) listener(message.method, message.params ?? {});
      }
    };
    socket.onclose = () => {
      for (const waiter of this.#pending.values()) {
        waiter.reject(new ConnectionClosedError("the inspector connection closed"));
      }
      this.#pending.clear();
      markClosed();
    };
  }

  /** Open a connection to a `ws://` inspector URL. */
  static connect(url: string): Promise<CdpConnection> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url);
      socket.onopen = () => resolve(new CdpConnection(socket));
      socket.onerror = (event) =>
        reject(
          new Error(
            `Cannot connect to the kernel's inspector at ${url}: ${
              (event as ErrorEvent).message ?? "error"
            }`,
          ),
        );
    });
  }

  /** Listen to protocol events. */
  onEvent(listener: (method: string, params: Record<string, unknown>) => void): void {
    this.#listeners.push(listener);
  }

  /** Send a command and wait for its result. */
  send<T = unknown>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    if (this.#socket.readyState !== WebSocket.OPEN) {
      return Promise.reject(new ConnectionClosedError("the inspector connection is closed"));
    }
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { method, resolve: resolve as (v: unknown) => void, reject });
      this.#socket.send(JSON.stringify({ id, method, params }));
    });
  }

  /** Close the connection. */
  close(): void {
    if (
      this.#socket.readyState === WebSocket.OPEN || this.#socket.readyState === WebSocket.CONNECTING
    ) {
      this.#socket.close();
    }
  }
}
