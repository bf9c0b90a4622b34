// The RabbitMQ definitions the program generates (rabbitmqDefinitions: quorum queues, dead-letter
// queues, policies, one user per service and worker with only its permissions), imported into a
// real node of Debian's rabbitmq-server, used over AMQP, exported, and restored into an EMPTY node:
// the restore docs/runbooks/rabbitmq-restore.md describes, timed. One node boots (9-15 s here, most
// of it loading code); for the restore it is reset (what `rabbitmqctl stop_app`, `reset` and
// `start_app` do: no queues, users or policies left, as on a new node) and only the export remains. The export and the imports are
// the runbook's own commands (`rabbitmqctl export_definitions`, `import_definitions`, `list_queues`).
// Publishing and consuming run in the broker, evaluated there through erl_call (RabbitNode.eval),
// with the amqp_client library the server ships (no AMQP client among the npm dependencies): a
// real AMQP connection to 127.0.0.1, so authentication and permissions are the broker's own.
//
// Debian 12 ships RabbitMQ 3.10; the program runs 4.1 (finbot:releases.images.rabbitmq). What
// differs, as far as these definitions go:
// - Format: 3.10 reads the file as generated (it has no version-specific keys). Its export adds
//   rabbit_version/rabbitmq_version, parameters, global_parameters, topic_permissions,
//   users[].limits, vhosts[].limits/metadata and queues[].type, and leaves out exchanges'
//   `internal` (false is the default). Newer exports carry more vhost metadata (a default queue
//   type from 3.11); not run here.
// - Quorum queues are declared by `x-queue-type: quorum` in both. From 4.0 a quorum queue without
//   a delivery limit gets 20: the program's `<queue>.dlq` policies set none, so on 4.x its
//   dead-letter queues redeliver at most 20 times, on 3.10 without limit.
// - Policies: `apply-to: queues` is read by both; `quorum_queues`/`classic_queues`/`streams`
//   exist only from 3.12. Classic mirrored queues (ha-* policy keys) are gone in 4.0: the
//   program uses none; take them out of an old export before importing it into 4.x.
// - `dead-letter-strategy: at-least-once` exists from 3.10 and needs `overflow: reject-publish`
//   (else the queue falls back to at-most-once); the program sets both.
// - `overflow: reject-publish` on a 3.10 quorum queue refuses publishes once the queue is OVER
//   max-length: with max-length 10000 it took 10,001 messages and refused the 10,002nd (publishes
//   one at a time, each confirmed). Not run on 4.x here.
// - rabbitmq.conf, not definitions: rabbitmqAdditionalConfig's `default_queue_type = quorum` is an
//   unknown key to 3.10 (the node refuses to boot with it; it exists from 3.13.x and in 4.x), so
//   these nodes run without it (its other line, prometheus.return_per_object_metrics, 3.10 takes);
//   the definitions declare the type of every queue anyway.
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { publishExchange, queueUsers, rabbitPasswordHash, rabbitmqDefinitions } from "../components/data/definitions";
import { KEDA_QUEUE_USER, WITHOUT_PASSWORD_HASHES } from "../components/data/queue";
import { dataConsumers } from "../components/platform";
import { loadStackConfig } from "./harness";
import { Epmd, RabbitNode, erlangHome, rabbitmqInstalled, rabbitmqVersion } from "./rabbitmq";
import { requireTool } from "./tools";

type Ctl = { status: number | null; output: string };
const ok = (result: Ctl) => {
    assert.equal(result.status, 0, result.output);
    return result.output;
};
/** JSON with object keys sorted at every level. */
const canonical = (value: unknown): string =>
    Array.isArray(value)
        ? `[${value.map(canonical).join(",")}]`
        : value !== null && typeof value === "object"
          ? `{${Object.keys(value)
                .sort()
                .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
                .join(",")}}`
          : JSON.stringify(value);
/** rabbitmqctl's `--formatter json` rows, each canonical, sorted: the answers before and after the restore compare. */
const rows = (result: Ctl) => (JSON.parse(ok(result)) as unknown[]).map(canonical).sort();
/** A queue name inside a regular expression. */
const re = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * An AMQP 0-9-1 session run in the node: connects to 127.0.0.1 as `user`, opens a channel `Ch`,
 * evaluates `body`, closes. Returns the Erlang term it printed: the body's value, `{refused, ...}`
 * when the login is refused, `{exit, ...}` when the broker closes the channel (a 403).
 */
const amqp = (node: RabbitNode, user: string, password: string, body: string) =>
    node.eval(
        [
            "{ok, _} = application:ensure_all_started(amqp_client),",
            `{ok, Params} = amqp_uri:parse("amqp://${user}:${password}@127.0.0.1:${node.port}/%2F"),`,
            "case amqp_connection:start(Params) of",
            "    {error, Error} -> {refused, Error};",
            "    {ok, Conn} ->",
            "        {ok, Ch} = amqp_connection:open_channel(Conn),",
            `        Result = try ${body} catch Class:Reason -> {Class, Reason} end,`,
            "        catch amqp_connection:close(Conn),",
            "        Result",
            "end",
        ].join("\n"),
    );
/**
 * Publishes `count` persistent messages to `queue` through `exchange` (by default the queue's own,
 * as FinBot's publishers do) with publisher confirms: true when all were confirmed, false when one was refused.
 */
const publish = (queue: string, count: number, exchange = publishExchange(queue)) =>
    "begin {'confirm.select_ok'} = amqp_channel:call(Ch, {'confirm.select', false}), " +
    "Props = setelement(5, list_to_tuple(['P_basic' | lists:duplicate(14, undefined)]), 2), " +
    `[amqp_channel:cast(Ch, {'basic.publish', 0, <<"${exchange}">>, <<"${queue}">>, false, false}, {amqp_msg, Props, <<"payment">>}) || _ <- lists:seq(1, ${count})], ` +
    "amqp_channel:wait_for_confirms(Ch, 30) end";
/** The length of `queue` by a passive declare (what KEDA's scaler does). */
const lengthByPassiveDeclare = (queue: string) =>
    `begin {'queue.declare_ok', _, N, _} = amqp_channel:call(Ch, {'queue.declare', 0, <<"${queue}">>, true, false, false, false, false, []}), N end`;
/** The length of `queue` as the broker counts it (what `rabbitmqctl list_queues name messages` shows). */
const queueLength = (queue: string) =>
    `begin {ok, Q} = rabbit_amqqueue:lookup(rabbit_misc:r(<<"/">>, queue, <<"${queue}">>)), ` +
    "[{messages, N}] = rabbit_amqqueue:info(Q, [messages]), N end";
/** Whether each user signs in with the password given: `ok` or `refused`, in order. */
const logins = (attempts: string[][]) =>
    `[${attempts.map(([user, pass]) => `element(1, rabbit_access_control:check_user_pass_login(<<"${user}">>, <<"${pass}">>))`).join(", ")}]`;
/** Takes one message from `queue` and rejects it without requeueing (a payment the worker cannot process): `rejected` or `empty`. */
const rejectOne = (queue: string) =>
    `case amqp_channel:call(Ch, {'basic.get', 0, <<"${queue}">>, false}) of ` +
    "{{'basic.get_ok', Tag, _, _, _, _}, _} -> amqp_channel:cast(Ch, {'basic.reject', Tag, false}), rejected; _ -> empty end";

describe("RabbitMQ definitions: import, use, export and restore on a real node", function () {
    this.timeout(90_000);
    const { config } = loadStackConfig("dev");
    // The users the program creates (as DataTier and Queue derive them): each consumer, and KEDA.
    const consumers = dataConsumers(config)
        .filter((c) => c.uses.publishes.length > 0 || c.consumes)
        .map((c) => ({ name: c.name, publishes: c.uses.publishes, consumes: c.consumes ? [c.consumes] : [] }));
    const users = queueUsers(consumers, KEDA_QUEUE_USER);
    const password = (user: string) => `pw${user.replace(/[^a-z]/g, "")}x1`;
    const definitions = rabbitmqDefinitions(
        config.queue.queues,
        users.map((u) => ({ ...u, passwordHash: rabbitPasswordHash(password(u.name)) })),
    );
    const queue = config.queue.queues[0];
    const publisher = consumers.find((c) => c.publishes.includes(queue.name))!.name;
    const worker = consumers.find((c) => c.consumes.includes(queue.name))!.name;
    let epmd: Epmd | undefined;
    let home = "";
    let source: RabbitNode | undefined;

    /**
     * What a restore must bring back, as the node reports it: its queues (type, arguments, the
     * policy in effect) and its definitions export (exchanges, bindings, policies, users with
     * tags and password hashes, permissions) without the version stamp.
     */
    const state = async (node: RabbitNode) => {
        const [queues, exported] = await Promise.all([
            node.ctlAsync(["list_queues", "name", "type", "durable", "auto_delete", "arguments", "policy", "--formatter", "json"]),
            node.ctlAsync(["export_definitions", "-"]),
        ]);
        const definitions = JSON.parse(ok(exported)) as Record<string, unknown>;
        delete definitions.rabbit_version;
        delete definitions.rabbitmq_version;
        return { queues: rows(queues), definitions: canonical(definitions) };
    };
    let before_: Awaited<ReturnType<typeof state>> | undefined;

    before(async function () {
        if (!rabbitmqInstalled()) requireTool(this, "rabbitmq-server", "rabbitmq-server");
        requireTool(this, "epmd", "erlang-base");
        requireTool(this, "erl_call", "erlang-base");
        epmd = await Epmd.start();
        home = erlangHome();
        const started = Date.now();
        source = await RabbitNode.start({ epmd, home });
        console.log(`      RabbitMQ ${rabbitmqVersion()}: booted in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    });
    after(async () => {
        await source?.stop();
        await epmd?.stop();
        for (const dir of [source?.dir, home]) if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it("imports the program's definitions: quorum queues with their policies, the dead-letter exchange and bindings", async () => {
        const file = path.join(source!.dir, "definitions.json");
        writeFileSync(file, JSON.stringify(definitions));
        ok(source!.ctl(["import_definitions", file]));
        before_ = await state(source!);
        const queues = before_.queues.map((q) => JSON.parse(q) as { name: string; type: string; policy: string });
        assert.deepEqual(
            queues.map((q) => [q.name, q.type, q.policy]),
            config.queue.queues
                .flatMap((q) => [
                    [q.name, "quorum", `finbot-${q.name}`],
                    [`${q.name}.dlq`, "quorum", `finbot-${q.name}-dlq`],
                ])
                .sort(),
        );
        const imported = JSON.parse(before_.definitions) as typeof definitions & {
            policies: Array<{ name: string; definition: unknown }>;
            bindings: Array<{ source: string; routing_key: string }>;
        };
        assert.deepEqual(imported.policies.find((p) => p.name === `finbot-${queue.name}`)?.definition, {
            "dead-letter-exchange": "finbot.dlx",
            "dead-letter-routing-key": `${queue.name}.dlq`,
            "dead-letter-strategy": "at-least-once",
            "delivery-limit": queue.deliveryLimit,
            "max-length": queue.maxLength,
            overflow: "reject-publish",
        });
        assert.ok(imported.bindings.some((b) => b.source === "finbot.dlx" && b.routing_key === `${queue.name}.dlq`));
    });

    it("gives every user no tags and only its own permissions", () => {
        // As the node exports them (the export is what a restore brings back).
        const exported = JSON.parse(before_!.definitions) as {
            users: Array<{ name: string; tags: string[] | string }>;
            permissions: Array<Record<string, string>>;
        };
        for (const u of users) {
            const tags = exported.users.find((x) => x.name === u.name)?.tags;
            assert.deepEqual(Array.isArray(tags) ? tags : tags?.split(",").filter(Boolean), [], u.name);
            const granted = exported.permissions.filter((p) => p.user === u.name);
            assert.equal(granted.length, 1, u.name);
            const { configure, write, read } = granted[0];
            assert.deepEqual({ configure, write, read }, u.permissions, u.name);
        }
        const publisherGrant = exported.permissions.find((p) => p.user === publisher)!;
        const exchanges = consumers
            .find((c) => c.name === publisher)!
            .publishes.map((q) => `finbot\\.publish\\.${q.replace(/\./g, "\\.")}`);
        assert.deepEqual([publisherGrant.configure, publisherGrant.write, publisherGrant.read], ["^$", `^(${exchanges.join("|")})$`, "^$"]);
        const kedaGrant = exported.permissions.find((p) => p.user === KEDA_QUEUE_USER)!;
        assert.deepEqual([kedaGrant.configure, kedaGrant.write, kedaGrant.read], ["^$", "^$", "^$"]);
    });

    it("lets a publisher publish, refuses others and wrong passwords, and refuses publishes over max-length", async () => {
        const oneByOne = `[${[1, 2, 3].map(() => publish(queue.name, 1)).join(", ")}]`;
        const [published, byWorker, wrongPassword, readByPublisher] = await Promise.all([
            amqp(source!, publisher, password(publisher), `{${publish(queue.name, queue.maxLength)}, ${oneByOne}}`),
            amqp(source!, worker, password(worker), publish(queue.name, 1)),
            amqp(source!, publisher, "wrong", publish(queue.name, 1)),
            amqp(source!, publisher, password(publisher), rejectOne(queue.name)),
        ]);
        // All confirmed up to max-length; then (3.10's quorum queues refuse once OVER the limit) one
        // more, then refusals (overflow: reject-publish), not old payments dropped.
        assert.equal(ok(published), "{true,[true,false,false]}");
        assert.match(
            ok(byWorker),
            new RegExp(
                `ACCESS_REFUSED - access to exchange '${re(publishExchange(queue.name))}' in vhost '/' refused for user '${re(worker)}'`,
            ),
        );
        assert.match(ok(wrongPassword), /refused,\s*\{auth_failure/);
        assert.match(
            ok(readByPublisher),
            new RegExp(`ACCESS_REFUSED - access to queue '${re(queue.name)}' in vhost '/' refused for user '${re(publisher)}'`),
        );
    });

    it("lets a publisher reach only its queues' exchanges, never the default exchange; KEDA counts a queue and consumes nothing", async () => {
        const [viaDefault, count, takenByKeda, publishedByKeda] = await Promise.all([
            amqp(source!, publisher, password(publisher), publish(queue.name, 1, "")),
            amqp(source!, KEDA_QUEUE_USER, password(KEDA_QUEUE_USER), lengthByPassiveDeclare(queue.name)),
            amqp(source!, KEDA_QUEUE_USER, password(KEDA_QUEUE_USER), rejectOne(queue.name)),
            amqp(source!, KEDA_QUEUE_USER, password(KEDA_QUEUE_USER), publish(queue.name, 1)),
        ]);
        // The default exchange would reach any queue of the vhost by its name.
        assert.match(
            ok(viaDefault),
            new RegExp(`ACCESS_REFUSED - access to exchange 'amq.default' in vhost '/' refused for user '${re(publisher)}'`),
        );
        // The broker counts a quorum queue's length on its tick, late under load: list it until it settles (at most 20 s).
        let messages: string | undefined;
        for (let i = 0; i < 40 && messages !== ok(count); i++) {
            if (i > 0) await new Promise((r) => setTimeout(r, 500));
            messages = ok(await source!.eval(queueLength(queue.name)));
        }
        assert.ok(Number(messages) > 0);
        assert.equal(ok(count), messages, "the passive declare reads the queue's length, as the broker counts it");
        assert.match(
            ok(takenByKeda),
            new RegExp(`ACCESS_REFUSED - access to queue '${re(queue.name)}' in vhost '/' refused for user 'keda'`),
        );
        assert.match(ok(publishedByKeda), /ACCESS_REFUSED - access to exchange/);
    });

    it("dead-letters a payment its worker rejects into the queue's DLQ", async () => {
        // Dead-lettering is asynchronous (here from 0.1 to 5 s), and a quorum queue's length is
        // counted on the broker's tick, late under load: after the worker's reject, the queues'
        // lengths, read in the broker (the session runs there), every 100 ms until the DLQ holds
        // the payment and the source the rest, for at most 20 s.
        const lengths = `Dlq = fun() -> ${queueLength(`${queue.name}.dlq`)} end, Source = fun() -> ${queueLength(queue.name)} end`;
        const wait =
            "Wait = fun W(0) -> ok; W(I) -> " +
            `case {Dlq(), Source()} of {1, ${queue.maxLength}} -> ok; _ -> timer:sleep(100), W(I - 1) end end`;
        const body = `begin ${lengths}, ${wait}, Rejected = ${rejectOne(queue.name)}, Wait(200), {Rejected, Dlq(), Source()} end`;
        assert.equal(ok(await amqp(source!, worker, password(worker), body)), `{rejected,1,${queue.maxLength}}`);
    });

    it("restores the export into an emptied node: the same queues, policies, users, permissions and password hashes", async () => {
        const exported = path.join(source!.dir, "export.json");
        const started = Date.now();
        ok(source!.ctl(["export_definitions", exported]));
        const exportSeconds = (Date.now() - started) / 1000;
        ok(await source!.reset()); // the broker's state is gone; only the export is left
        assert.equal(ok(await source!.eval("length(rabbit_amqqueue:list())")), "0", "reset left queues behind");
        const restoreStarted = Date.now();
        ok(source!.ctl(["import_definitions", exported]));
        let restored = await state(source!);
        for (let i = 0; i < 20 && restored.queues.length < before_!.queues.length; i++) {
            await new Promise((r) => setTimeout(r, 250));
            restored = await state(source!);
        }
        const importSeconds = (Date.now() - restoreStarted) / 1000;
        console.log(`      restore: export ${exportSeconds.toFixed(2)} s + import into the emptied node ${importSeconds.toFixed(2)} s`);
        assert.deepEqual(restored, before_);

        const file = JSON.parse(readFileSync(exported, "utf8")) as { users: Array<{ name: string; password_hash: string }> };
        const generated = definitions.users as Array<{ name: string; password_hash: string }>;
        for (const u of generated) assert.equal(file.users.find((x) => x.name === u.name)?.password_hash, u.password_hash, u.name);
        // Every login, and a wrong password, checked in the broker at once.
        const attempts = [...users.map((u) => [u.name, password(u.name)]), [publisher, "wrong"]];
        const [signedIn, count] = await Promise.all([source!.eval(logins(attempts)), source!.eval(queueLength(queue.name))]);
        assert.equal(ok(signedIn).replace(/\s+/g, ""), `[${[...users.map(() => "ok"), "refused"].join(",")}]`);
        // Definitions hold no messages: the queues come back empty (counted before anything is
        // published), and take new payments.
        assert.equal(ok(count), "0");
        assert.equal(ok(await amqp(source!, publisher, password(publisher), publish(queue.name, 1))), "true");
    });

    it("keeps the hourly export without password hashes: a restore from it brings users back without passwords until their Secrets set them", async () => {
        const exported = path.join(source!.dir, "export-with-hashes.json");
        ok(source!.ctl(["export_definitions", exported]));
        const stripped = path.join(source!.dir, "export-kept.json");
        // The CronJob's own filter, run by a shell as the CronJob runs it.
        const filtered = spawnSync("sh", ["-c", `${WITHOUT_PASSWORD_HASHES} < '${exported}' > '${stripped}'`], { encoding: "utf8" });
        assert.equal(filtered.status, 0, filtered.stderr);
        type Definitions = { users: Array<{ name: string; password_hash: string }> } & Record<string, unknown>;
        const [before, kept] = [exported, stripped].map((f) => JSON.parse(readFileSync(f, "utf8")) as Definitions);
        assert.ok(before.users.every((u) => u.password_hash.length > 0));
        assert.ok(
            kept.users.every((u) => u.password_hash === ""),
            "no hash is kept",
        );
        assert.deepEqual(kept, { ...before, users: before.users.map((u) => ({ ...u, password_hash: "" })) }, "nothing else changed");
        ok(source!.ctl(["import_definitions", stripped]));
        const signIn = async () => ok(await source!.eval(logins(users.map((u) => [u.name, password(u.name)])))).replace(/\s+/g, "");
        assert.equal(await signIn(), `[${users.map(() => "refused").join(",")}]`, "no user signs in with a blanked hash");
        // What the topology operator does from each user's Secret when it reconciles (`rabbitmqctl
        // change_password` calls the same function: in 3.10.8 its ChangePasswordCommand beam makes one
        // rabbit_misc:rpc_call to rabbit_auth_backend_internal:change_password with the CLI's acting user).
        const setPasswords = users.map(
            (u) => `rabbit_auth_backend_internal:change_password(<<"${u.name}">>, <<"${password(u.name)}">>, <<"test">>)`,
        );
        ok(await source!.eval(`[ok = Set || Set <- [${setPasswords.join(", ")}]]`));
        assert.equal(await signIn(), `[${users.map(() => "ok").join(",")}]`);
    });
});
