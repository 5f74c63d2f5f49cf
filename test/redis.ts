/**
 * A throw-away Redis 7 server on loopback (Debian's redis-server; ACL rules, SCAN and pub/sub behave
 * as in Valkey, which forked from Redis 7.2) and a minimal RESP2 client that hands errors back as
 * values, so a test can assert the exact refusal.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createConnection, createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";

export type Reply = string | number | null | Reply[] | { error: string };

/** Parses one RESP2 reply at `at`; undefined until the buffer holds all of it. */
function parse(buf: Buffer, at: number): { value: Reply; next: number } | undefined {
  const eol = buf.indexOf("\r\n", at);
  if (eol < 0) return undefined;
  const head = buf.toString("utf8", at + 1, eol);
  switch (String.fromCharCode(buf[at]!)) {
    case "+":
      return { value: head, next: eol + 2 };
    case "-":
      return { value: { error: head }, next: eol + 2 };
    case ":":
      return { value: Number(head), next: eol + 2 };
    case "$": {
      const length = Number(head);
      if (length < 0) return { value: null, next: eol + 2 };
      if (buf.length < eol + 2 + length + 2) return undefined;
      return { value: buf.toString("utf8", eol + 2, eol + 2 + length), next: eol + 2 + length + 2 };
    }
    case "*": {
      const count = Number(head);
      if (count < 0) return { value: null, next: eol + 2 };
      const items: Reply[] = [];
      let next = eol + 2;
      for (let i = 0; i < count; i++) {
        const item = parse(buf, next);
        if (!item) return undefined;
        items.push(item.value);
        next = item.next;
      }
      return { value: items, next };
    }
    default:
      throw new Error(`not a RESP2 reply: ${JSON.stringify(buf.toString("utf8", at, eol))}`);
  }
}

/** One connection; `call` sends a command and resolves with its reply (an error reply too). */
export class RespClient {
  private buffer = Buffer.alloc(0);
  private readonly waiting: ((reply: Reply) => void)[] = [];

  private constructor(private readonly socket: Socket) {
    socket.on("data", (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      for (let reply = parse(this.buffer, 0); reply; reply = this.buffer.length ? parse(this.buffer, 0) : undefined) {
        this.buffer = this.buffer.subarray(reply.next);
        this.waiting.shift()?.(reply.value);
      }
    });
  }

  static connect(port: number): Promise<RespClient> {
    return new Promise((resolve, reject) => {
      const socket = createConnection({ host: "127.0.0.1", port }, () => resolve(new RespClient(socket)));
      socket.once("error", reject);
    });
  }

  call(...args: (string | number)[]): Promise<Reply> {
    const parts = args.map(String);
    const wire = `*${parts.length}\r\n${parts.map((p) => `$${Buffer.byteLength(p)}\r\n${p}\r\n`).join("")}`;
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.socket.write(wire);
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface RedisServer {
  readonly port: number;
  /** A connection as the server's `default` user (all rights until a test changes it). */
  admin(): Promise<RespClient>;
  stop(): void;
}

/**
 * Starts redis-server on a free loopback port in a temporary directory, nothing persisted. DEBUG is
 * enabled so that only the ACL stands between a user and it, as a test of the ACL needs.
 */
export async function startRedis(): Promise<RedisServer> {
  const dir = mkdtempSync(path.join(tmpdir(), "odoo-fleet-redis-"));
  const port = await freePort();
  const child: ChildProcess = spawn("redis-server", ["--bind", "127.0.0.1", "--port", String(port), "--dir", dir, "--save", "", "--appendonly", "no", "--protected-mode", "yes", "--enable-debug-command", "yes"], { stdio: "ignore" });
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      const probe = await RespClient.connect(port);
      const pong = await probe.call("PING");
      probe.close();
      if (pong === "PONG") break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`redis-server did not start on port ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    admin: () => RespClient.connect(port),
    stop: () => {
      child.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
