/**
 * Tenant isolation in the cache (issue 14, Valkey): the check `tenant-cache-acl` on the access strings,
 * and attacks on a real Redis 7 server with the planned ACL users loaded as planned: a tenant lists,
 * reads, writes and subscribes across to another and is refused each time, while its own sessions,
 * written exactly as session_redis writes them, work.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { REFUSED_CACHE_COMMANDS, sessionKeyPrefix, tenantCacheAccessString, tenantCacheAclProblems } from "../model/cache-acl";
import type { CapturedResource } from "../model/resource";
import { evaluatePolicies } from "../plan/evaluation/policy-eval";
import { ALL_POLICIES } from "../policies/all";
import { tenantOfResource } from "../policies/common";
import { stackPlan } from "./plan-cli";
import { RespClient, startRedis, type RedisServer, type Reply } from "./redis";
import { missingTools } from "./tools";

/** The access string every tenant user had before this fix (the weakness, as it was planned). */
const BEFORE = (tenant: string) => `on ~${tenant}:* &${tenant}:* -@all +@connection +@read +@write +@keyspace -@dangerous`;
const USER = "aws:elasticache/user:User";

type R = CapturedResource & { inputs: Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
const plannedUsers = (stack: string) => (stackPlan(stack).document.resources as R[]).filter((r) => r.type === USER);

async function policyViolations(mutate: (users: R[]) => void, config?: Record<string, unknown>): Promise<string[]> {
  const policy = ALL_POLICIES.find((p) => p.name === "tenant-cache-acl")!;
  const resources = structuredClone(stackPlan("shared-prod").document.resources) as R[];
  mutate(resources.filter((r) => r.type === USER));
  const { violations } = await evaluatePolicies([policy], resources.map((resource) => ({ resource })), { tenantOf: tenantOfResource, ...(config ? { config: { "tenant-cache-acl": config } } : {}) });
  return violations.map((v) => v.message);
}

describe("tenant cache access strings", () => {
  test("a tenant's user: its session keys as session_redis writes them, its channels, four named commands", () => {
    expect(sessionKeyPrefix("northwind")).toBe("session::northwind:");
    expect(tenantCacheAccessString("northwind")).toBe("on ~session::northwind:* &northwind:* -@all +get +set +expire +del");
    expect(tenantCacheAclProblems("northwind", tenantCacheAccessString("northwind"))).toEqual([]);
  });

  test("every planned stack gives each tenant exactly that user, and the default user is off", () => {
    for (const stack of ["shared-prod", "dedicated-acme-prod", "shared-dev"]) {
      const users = plannedUsers(stack);
      expect(users.length).toBeGreaterThan(1);
      for (const u of users) expect(u.inputs.accessString).toBe(u.inputs.userName === "default" ? "off -@all" : tenantCacheAccessString(u.inputs.userName));
    }
  });

  test("the access string as it was planned before: listing and wrong key pattern found", () => {
    expect(tenantCacheAclProblems("northwind", BEFORE("northwind"))).toEqual([
      "allows DBSIZE, FUNCTION, MOVE, RANDOMKEY, SCAN, SELECT",
      "grants whole categories (@connection, @read, @write, @keyspace) instead of naming the session store's commands",
      "key pattern northwind:* reaches beyond session::northwind:",
    ]);
  });

  test.each<[string, string, string[]]>([
    ["a listing command by name", "on ~session::northwind:* -@all +get +set +expire +del +scan", ["allows SCAN"]],
    ["KEYS and RANDOMKEY", "on ~session::northwind:* -@all +get +keys +randomkey", ["allows KEYS, RANDOMKEY"]],
    ["a subcommand counts as its command", "on ~session::northwind:* -@all +get +client|list +config|get", ["allows CLIENT, CONFIG"]],
    ["everything", "on ~session::northwind:* allcommands", [`allows ${Object.keys(REFUSED_CACHE_COMMANDS).sort().map((c) => c.toUpperCase()).join(", ")}`, "grants whole categories (@all) instead of naming the session store's commands"]],
    ["@admin then nothing", "on ~session::northwind:* +@admin -@all +get", []],
    ["a command the session store does not send", "on ~session::northwind:* -@all +get +hgetall", ["grants HGETALL, which the session store does not use"]],
    ["every key", "on ~* -@all +get", ["key pattern * reaches beyond session::northwind:"]],
    ["allkeys", "on allkeys -@all +get", ["key pattern * reaches beyond session::northwind:"]],
    ["a read pattern over every session", "on %R~session::* -@all +get", ["key pattern session::* reaches beyond session::northwind:"]],
    ["a neighbour whose name starts the same", "on ~session::north* -@all +get", ["key pattern session::north* reaches beyond session::northwind:"]],
    ["every channel", "on ~session::northwind:* &* -@all +get", ["channel pattern * reaches beyond northwind:"]],
    ["a selector", "on ~session::northwind:* -@all +get (~* +scan)", ["uses selectors, whose rules this check does not follow"]],
  ])("%s is found", (_what, access, problems) => {
    expect(tenantCacheAclProblems("northwind", access).sort()).toEqual([...problems].sort());
  });

  test("policy tenant-cache-acl: the plan passes; the earlier string, a SCAN grant or a foreign key pattern fails", async () => {
    expect(await policyViolations(() => undefined)).toEqual([]);
    const user = (users: R[], name: string) => users.find((u) => u.inputs.userName === name)!;
    expect(
      await policyViolations((users) => {
        user(users, "northwind").inputs.accessString = BEFORE("northwind");
        user(users, "contoso").inputs.accessString = `${tenantCacheAccessString("contoso")} +scan`;
        user(users, "fabrikam").inputs.accessString = tenantCacheAccessString("northwind");
        user(users, "default").inputs.accessString = "on ~* +@all";
      }),
    ).toEqual([
      `ElastiCache default user ${user(plannedUsers("shared-prod"), "default").inputs.userId} is not switched off with no rights: "on ~* +@all"`,
      "ElastiCache user northwind of tenant northwind allows DBSIZE, FUNCTION, MOVE, RANDOMKEY, SCAN, SELECT",
      "ElastiCache user northwind of tenant northwind grants whole categories (@connection, @read, @write, @keyspace) instead of naming the session store's commands",
      "ElastiCache user northwind of tenant northwind key pattern northwind:* reaches beyond session::northwind:",
      "ElastiCache user contoso of tenant contoso allows SCAN",
      "ElastiCache user fabrikam of tenant fabrikam key pattern session::northwind:* reaches beyond session::fabrikam:",
      "ElastiCache user fabrikam of tenant fabrikam channel pattern northwind:* reaches beyond fabrikam:",
    ]);
  });

  test("policy tenant-cache-acl: its allow-list is configurable, the refused commands are not", async () => {
    const narrowed = await policyViolations(() => undefined, { sessionStoreCommands: ["get", "set", "expire"] });
    expect(narrowed).toHaveLength(4);
    expect(narrowed[0]).toMatch(/^ElastiCache user \S+ of tenant \S+ grants DEL, which the session store does not use$/);
    expect(await policyViolations((users) => void (users.find((u) => u.inputs.userName === "northwind")!.inputs.accessString += " +keys"), { sessionStoreCommands: ["get", "set", "expire", "del", "keys"] })).toEqual([
      "ElastiCache user northwind of tenant northwind allows KEYS",
    ]);
  });
});

const noServer = missingTools("cache ACL attacks on a real Redis 7", "redis-server").length > 0;

/** What session_redis does (camptocamp odoo-cloud-addons 18.0, session_redis/session.py) through redis-py. */
const sessionRedis = {
  /** redis-py's connect: AUTH, then CLIENT SETINFO whose refusal it ignores. */
  async connect(port: number, user: string, password: string): Promise<{ client: RespClient; setinfo: Reply }> {
    const client = await RespClient.connect(port);
    expect(await client.call("AUTH", user, password)).toBe("OK");
    return { client, setinfo: await client.call("CLIENT", "SETINFO", "LIB-NAME", "redis-py") };
  },
  /** save(): SET, then EXPIRE with the expiration. */
  async save(client: RespClient, key: string, data: string, seconds: number): Promise<Reply[]> {
    return [await client.call("SET", key, data), await client.call("EXPIRE", key, seconds)];
  },
};

/** An Odoo 16+ session id: 84 URL-safe characters (odoo/http.py FilesystemSessionStore.generate_key). */
const sid = () => randomBytes(63).toString("base64url");
const NOPERM = { error: expect.stringMatching(/^NOPERM /) as unknown as string };

describe.skipIf(noServer)("attacks on a real Redis 7 with the planned ACL users", () => {
  let server: RedisServer;
  const passwords: Record<string, string> = {};
  const secretSessions: Record<string, string> = {};

  beforeAll(async () => {
    server = await startRedis();
    const admin = await server.admin();
    // Loaded as ElastiCache creates them: a new user, the planned access string word for word, a password.
    // The default user last: switching it off takes this connection's rights too.
    const planned = plannedUsers("shared-prod").map((u) => [u.inputs.userName as string, u.inputs.accessString as string]);
    const users = [...planned.filter(([n]) => n !== "default"), ["north", tenantCacheAccessString("north")], ...planned.filter(([n]) => n === "default")];
    for (const [name, access] of users) {
      passwords[name!] = randomBytes(24).toString("hex");
      const words = name === "default" ? ["reset", ...access!.split(" ")] : [...access!.split(" "), `>${passwords[name!]}`];
      expect(await admin.call("ACL", "SETUSER", name!, ...words)).toBe("OK");
    }
    // Tenant B (contoso) and tenant "north" have live sessions, written by their own users.
    for (const tenant of ["contoso", "north"]) {
      const { client } = await sessionRedis.connect(server.port, tenant, passwords[tenant]!);
      secretSessions[tenant] = `${sessionKeyPrefix(tenant)}${sid()}`;
      expect(await sessionRedis.save(client, secretSessions[tenant]!, '{"uid": 2, "login": "admin"}', 604800)).toEqual(["OK", 1]);
      client.close();
    }
    admin.close();
  });
  afterAll(() => server?.stop());

  test("tenant A's own sessions work exactly as session_redis uses them", async () => {
    const { client, setinfo } = await sessionRedis.connect(server.port, "northwind", passwords.northwind!);
    // Refused (Valkey 8: NOPERM; Redis 7.0 predates SETINFO); redis-py ignores the error (connection.py on_connect).
    expect(setinfo).toEqual({ error: expect.stringMatching(/^(NOPERM |ERR unknown subcommand 'SETINFO')/) });
    const key = `${sessionKeyPrefix("northwind")}${sid()}`;
    expect(await sessionRedis.save(client, key, '{"uid": 7}', 604800)).toEqual(["OK", 1]);
    expect(await client.call("GET", key)).toBe('{"uid": 7}');
    // rotate(): DEL the old sid, save the new one; delete(): DEL.
    const rotated = `${sessionKeyPrefix("northwind")}${sid()}`;
    expect(await client.call("DEL", key)).toBe(1);
    expect(await sessionRedis.save(client, rotated, '{"uid": 7}', 10800)).toEqual(["OK", 1]);
    expect(await client.call("GET", key)).toBeNull();
    expect(await client.call("DEL", rotated)).toBe(1);
    client.close();
  });

  test("tenant A lists nothing: SCAN, KEYS, RANDOMKEY, DBSIZE, MONITOR, CLIENT, SLOWLOG, INFO refused", async () => {
    const { client } = await sessionRedis.connect(server.port, "northwind", passwords.northwind!);
    const attempts = [
      ["SCAN", "0"],
      ["SCAN", "0", "MATCH", "session::contoso:*", "COUNT", "1000"],
      ["KEYS", "*"],
      ["KEYS", "session::northwind:*"], // session_redis's list(), which Odoo never calls
      ["RANDOMKEY"],
      ["DBSIZE"],
      ["MONITOR"],
      ["CLIENT", "LIST"],
      ["CLIENT", "KILL", "USER", "contoso"],
      ["SLOWLOG", "GET"],
      ["INFO", "keyspace"],
      ["OBJECT", "ENCODING", secretSessions.contoso!],
      ["ACL", "LIST"],
    ];
    for (const command of attempts) expect([command.join(" "), await client.call(...command)]).toEqual([command.join(" "), NOPERM]);
    client.close();
  });

  test("tenant A reads, writes, expires and deletes nothing of tenant B, nor of a tenant whose name starts like its own", async () => {
    const { client } = await sessionRedis.connect(server.port, "northwind", passwords.northwind!);
    const north = await sessionRedis.connect(server.port, "north", passwords.north!);
    for (const [attacker, victim] of [[client, secretSessions.contoso!], [north.client, secretSessions.contoso!], [north.client, `${sessionKeyPrefix("northwind")}${sid()}`]] as const) {
      for (const command of [["GET", victim], ["SET", victim, "{}"], ["EXPIRE", victim, "1"], ["DEL", victim], ["SET", victim, "{}", "GET"]]) {
        expect([command.join(" "), await attacker.call(...command)]).toEqual([command.join(" "), NOPERM]);
      }
    }
    // A's own key pattern does not cover "north" (session::north:) nor "northwind" the other way round.
    expect(await client.call("GET", secretSessions.north!)).toEqual(NOPERM);
    client.close();
    north.client.close();
    // B's session is still there and unchanged, seen by B.
    const b = await sessionRedis.connect(server.port, "contoso", passwords.contoso!);
    expect(await b.client.call("GET", secretSessions.contoso!)).toBe('{"uid": 2, "login": "admin"}');
    b.client.close();
  });

  test("tenant A subscribes, publishes and runs nothing else: pub/sub, scripts, databases, flushes, config", async () => {
    const { client } = await sessionRedis.connect(server.port, "northwind", passwords.northwind!);
    const attempts = [
      ["SUBSCRIBE", "contoso:events"],
      ["PSUBSCRIBE", "*"],
      ["SSUBSCRIBE", "contoso:events"],
      ["PUBLISH", "contoso:events", "x"],
      ["PUBSUB", "CHANNELS"],
      ["EVAL", "return redis.call('GET', KEYS[1])", "1", secretSessions.contoso!],
      ["FUNCTION", "LIST"],
      ["SELECT", "1"],
      ["SWAPDB", "0", "1"],
      ["MOVE", `${sessionKeyPrefix("northwind")}x`, "1"],
      ["SORT", secretSessions.contoso!],
      ["FLUSHALL"],
      ["FLUSHDB"],
      ["CONFIG", "GET", "*"],
      ["CONFIG", "SET", "maxmemory", "1"],
      ["DEBUG", "SLEEP", "0"],
      ["SHUTDOWN", "NOSAVE"],
    ];
    for (const command of attempts) expect([command.join(" "), await client.call(...command)]).toEqual([command.join(" "), NOPERM]);
    expect(await client.call("PING")).toEqual(NOPERM);
    client.close();
  });

  test("the default user is off: no connection gets in without a tenant's password", async () => {
    const anonymous = await RespClient.connect(server.port);
    expect(await anonymous.call("GET", secretSessions.contoso!)).toEqual({ error: expect.stringMatching(/^NOAUTH /) });
    expect(await anonymous.call("AUTH", "default", "")).toEqual({ error: expect.stringMatching(/^WRONGPASS /) });
    expect(await anonymous.call("AUTH", "contoso", passwords.northwind!)).toEqual({ error: expect.stringMatching(/^WRONGPASS /) });
    anonymous.close();
  });

  test("the weakness as planned before: SCAN shows B's session ids to A, and A's own session writes are refused", async () => {
    // A server of its own: the default user of the first one is off, as planned.
    const before = await startRedis();
    try {
      const root = await before.admin();
      for (const tenant of ["northwind", "contoso"]) expect(await root.call("ACL", "SETUSER", tenant, ...BEFORE(tenant).split(" "), ">pw")).toBe("OK");
      const victim = `contoso:${sid()}`;
      expect(await root.call("SET", victim, "{}")).toBe("OK");
      root.close();
      const { client } = await sessionRedis.connect(before.port, "northwind", "pw");
      expect(await client.call("SCAN", "0", "COUNT", "1000")).toEqual(["0", [victim]]);
      expect(await client.call("RANDOMKEY")).toBe(victim);
      // session_redis with ODOO_SESSION_REDIS_PREFIX "northwind:" writes session::northwind::<sid>.
      expect(await client.call("SET", `session::northwind::${sid()}`, "{}")).toEqual(NOPERM);
      client.close();
    } finally {
      before.stop();
    }
    expect(tenantCacheAclProblems("northwind", BEFORE("northwind"))[0]).toBe("allows DBSIZE, FUNCTION, MOVE, RANDOMKEY, SCAN, SELECT");
  });

  test("the refused commands' categories are the server's (COMMAND INFO, subcommands included)", async () => {
    const probe = await startRedis();
    try {
      const root = await probe.admin();
      for (const [command, categories] of Object.entries(REFUSED_CACHE_COMMANDS)) {
        const [info] = (await root.call("COMMAND", "INFO", command)) as Reply[][];
        const of = (entry: Reply[]): string[] => [...(entry[6] as string[]), ...((entry[9] as Reply[][] | undefined) ?? []).flatMap(of)];
        expect([command, [...new Set(of(info!).map((c) => c.replace(/^@/, "")))].sort()]).toEqual([command, [...categories].sort()]);
      }
      root.close();
    } finally {
      probe.stop();
    }
  });
});
