import * as assert from "node:assert/strict";
import { workerSchema } from "../components/config/data";
import { CONNECTION_KEYS } from "../components/data/connections";
import { rabbitPasswordHash } from "../components/data/definitions";
import { totalRequests } from "../components/lib/footprint";
import { readStackFile } from "../components/config/load";
import { validateConfig } from "../components/config/validate";
import { ManifestChecksumError, sha256Of, verifyManifest } from "../components/lib/manifest";
import YAML from "yaml";
import { databaseRules } from "../components/data/rules";
import { promtoolTest, scratchDir, writeRuleFile } from "../scripts/lib/promtool";
import { PROJECT_DIR, PlatformRun, revealSecrets, runStack } from "./harness";
import { requireTool } from "./tools";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;
const CR = (group: string, kind: string) => `kubernetes:${group}:${kind}`;
const inputs = (run: PlatformRun, type: string, name: string): Any => run.get(type, name).inputs;

describe("data tier", () => {
    let dev: PlatformRun;
    let prod: PlatformRun;
    before(async () => {
        dev = await runStack("dev");
        prod = await runStack("prod");
    });

    it("runs everything in the cluster in dev (no AWS account) and uses managed AWS stores in prod", () => {
        assert.equal(dev.resources.filter((r) => r.type.startsWith("aws:")).length, 0);
        assert.equal(dev.ofType(CR("postgresql.cnpg.io/v1", "Cluster")).length, 1);
        assert.equal(dev.ofType("kubernetes:apps/v1:StatefulSet").length, 1, "in-cluster Redis");
        assert.equal(prod.ofType(CR("postgresql.cnpg.io/v1", "Cluster")).length, 0);
        assert.equal(prod.ofType("aws:rds/cluster:Cluster").length, 1);
        assert.equal(prod.ofType("aws:rds/clusterInstance:ClusterInstance").length, 3, "a writer and two readers");
        assert.equal(prod.ofType("aws:elasticache/replicationGroup:ReplicationGroup").length, 1);
        for (const run of [dev, prod])
            assert.equal(run.ofType(CR("rabbitmq.com/v1beta1", "RabbitmqCluster")).length, 1, "RabbitMQ in the cluster in both");
    });

    it("lets only FinBot's apps, KEDA, Prometheus and the RabbitMQ operators into the data namespace, each on its ports", () => {
        for (const run of [dev, prod]) {
            const ns = run.config.namespaces;
            const policies = run
                .ofType("kubernetes:networking.k8s.io/v1:NetworkPolicy")
                .map((p) => p.inputs as Any)
                .filter((p) => p.metadata.namespace === ns.data);
            const ingress = policies.filter((p) => p.spec.policyTypes[0] === "Ingress" && p.spec.ingress);
            const from = ingress.map((p) => [
                p.spec.ingress[0].from
                    .map((f: Any) => {
                        const where = f.namespaceSelector?.matchLabels["kubernetes.io/metadata.name"] ?? f.ipBlock.cidr;
                        return f.podSelector ? `${where}/${Object.values(f.podSelector.matchLabels).join("+")}` : where;
                    })
                    .join(","),
                (p.spec.ingress[0].ports ?? []).map((x: Any) => x.port).join(","),
            ]);
            assert.deepEqual(
                from.sort(),
                [
                    [ns.data, ""],
                    // From the monitoring namespace, only Prometheus, on the exporters' ports (it scrapes).
                    [`${ns.monitoring}/prometheus`, run === prod ? "9187,9121,15691" : "9187,9127,9121,15691"],
                    // The API server (webhooks): the private subnets of the created cluster in prod, the private ranges in dev.
                    [run === prod ? "10.0.0.0/19,10.0.64.0/19,10.0.128.0/19" : "10.0.0.0/8,172.16.0.0/12,192.168.0.0/16", "9443"],
                    [ns.apps, "5432,6379,5671"],
                    [ns.autoscaling, "5671"],
                    ["rabbitmq-system", "15671,5671"],
                ].sort(),
            );
            assert.ok(policies.some((p) => p.metadata.name === "default-deny"));
        }
    });

    describe("dev (in-cluster)", () => {
        it("CloudNativePG: a primary and one replica, pooled through PgBouncer in transaction mode", () => {
            const release = inputs(dev, "kubernetes:helm.sh/v3:Release", "finbot-database-operator");
            assert.deepEqual([release.chart, release.version], ["cloudnative-pg", "0.29.0"]);
            const cluster = inputs(dev, CR("postgresql.cnpg.io/v1", "Cluster"), "finbot-database-cluster");
            assert.equal(cluster.spec.instances, 2);
            assert.equal(cluster.spec.storage.size, "2Gi");
            assert.equal(cluster.spec.postgresql.parameters.log_min_duration_statement, "500");
            assert.equal(cluster.spec.postgresql.parameters["pg_stat_statements.track"], "all");
            assert.equal(cluster.spec.enableSuperuserAccess, false);
            for (const type of ["rw", "ro"]) {
                const pooler = inputs(dev, CR("postgresql.cnpg.io/v1", "Pooler"), `finbot-database-pooler-${type}`);
                assert.equal(pooler.spec.type, type);
                assert.equal(pooler.spec.pgbouncer.poolMode, "transaction");
            }
            const operator = dev.get("kubernetes:helm.sh/v3:Release", "finbot-database-operator").urn;
            assert.ok(
                dev.get(CR("postgresql.cnpg.io/v1", "Cluster"), "finbot-database-cluster").dependsOn.includes(operator),
                "CRDs first",
            );
        });

        it("Redis: a user per consumer confined to its keys, no default user, memory-capped, non-root, with a redis_exporter sidecar", () => {
            const statefulSet = inputs(dev, "kubernetes:apps/v1:StatefulSet", "finbot-cache-redis");
            const pod = statefulSet.spec.template.spec;
            assert.equal(pod.securityContext.runAsNonRoot, true);
            assert.deepEqual(
                pod.containers.map((c: Any) => c.name),
                ["redis", "redis-exporter"],
            );
            assert.equal(pod.containers[0].image, "docker.io/library/redis:8.2.2");
            const conf = (revealSecrets(dev.get("kubernetes:core/v1:Secret", "finbot-cache-conf").inputs) as Any).stringData["redis.conf"];
            assert.match(conf, /^user default off nopass -@all$/m);
            // api uses the cache, the settlement worker does not: only api (and the exporter, the health check) get a user.
            assert.deepEqual(
                [...conf.matchAll(/^user (\S+) on #[0-9a-f]{64} /gm)].map((m: RegExpMatchArray) => m[1]),
                ["api", "exporter", "healthcheck"],
            );
            assert.match(conf, /^user api on #[0-9a-f]{64} ~api:\* &api:\* \+@all -@dangerous$/m);
            assert.match(conf, /^maxmemory 64mb$/m);
            assert.match(conf, /^maxmemory-policy volatile-lru$/m);
            assert.ok(
                JSON.stringify(dev.get("kubernetes:core/v1:Secret", "finbot-cache-conf").inputs).includes(
                    "1b47061264138c4ac30d75fd1eb44270",
                ),
                "secret",
            );
        });

        it("RabbitMQ: one node, TLS only, quorum queues with dead-letter queues, a user per publisher and consumer", () => {
            const cluster = inputs(dev, CR("rabbitmq.com/v1beta1", "RabbitmqCluster"), "finbot-queue-cluster");
            assert.equal(cluster.spec.replicas, 1);
            assert.match(cluster.spec.rabbitmq.additionalConfig, /default_queue_type = quorum/);
            assert.deepEqual(cluster.spec.tls, { secretName: "finbot-queue-tls", disableNonTLSListeners: true });
            const queues = dev.ofType(CR("rabbitmq.com/v1beta1", "Queue")).map((q) => (q.inputs as Any).spec);
            assert.deepEqual(
                queues.map((q: Any) => `${q.name}:${q.type}:${q.deletionPolicy}`),
                [
                    "payments.settle:quorum:retain",
                    "payments.settle.dlq:quorum:retain",
                    "notifications.send:quorum:retain",
                    "notifications.send.dlq:quorum:retain",
                ],
            );
            const policy = inputs(dev, CR("rabbitmq.com/v1beta1", "Policy"), "finbot-queue-policy-finbot-payments-settle").spec;
            assert.deepEqual(
                [policy.pattern, policy.definition["max-length"], policy.definition.overflow, policy.definition["dead-letter-routing-key"]],
                ["^payments\\.settle$", 10000, "reject-publish", "payments.settle.dlq"],
            );
            // api publishes to two queues, the worker consumes one, KEDA reads lengths: no user gets more, none is tagged.
            const permission = (user: string) =>
                inputs(dev, CR("rabbitmq.com/v1beta1", "Permission"), `finbot-queue-permission-${user}`).spec.permissions;
            // Publishers write only to their queues' own exchanges; KEDA counts queues by a passive declare and may read nothing.
            assert.deepEqual(permission("api"), {
                configure: "^$",
                write: "^(finbot\\.publish\\.payments\\.settle|finbot\\.publish\\.notifications\\.send)$",
                read: "^$",
            });
            assert.deepEqual(permission("settlement-worker"), { configure: "^$", write: "^$", read: "^(payments\\.settle)$" });
            assert.deepEqual(permission("keda"), { configure: "^$", write: "^$", read: "^$" });
            const binding = inputs(
                dev,
                CR("rabbitmq.com/v1beta1", "Binding"),
                "finbot-queue-binding-finbot-publish-payments-settle-payments-settle",
            );
            assert.deepEqual(
                [binding.spec.source, binding.spec.destination, binding.spec.routingKey],
                ["finbot.publish.payments.settle", "payments.settle", "payments.settle"],
            );
            for (const user of dev.ofType(CR("rabbitmq.com/v1beta1", "User"))) assert.deepEqual((user.inputs as Any).spec.tags, []);
            const monitor = inputs(dev, CR("monitoring.coreos.com/v1", "ServiceMonitor"), "finbot-queue-service-monitor");
            assert.deepEqual([monitor.spec.endpoints[0].port, monitor.spec.endpoints[0].scheme], ["prometheus-tls", "https"]);
            // The operators' manifests are applied from the bytes checked against their pins (the plan stands in for the download).
            const operator = inputs(dev, "kubernetes:yaml/v2:ConfigGroup", "finbot-queue-operator");
            assert.match(
                operator.yaml,
                /verified .* https:\/\/github\.com\/rabbitmq\/cluster-operator\/releases\/download\/v2\.22\.3\/cluster-operator\.yml/,
            );
        });

        it("PostgreSQL archives WAL and takes a daily base backup through the Barman Cloud plugin into RustFS, kept 14 days; RabbitMQ's definitions are exported hourly", () => {
            const cluster = inputs(dev, CR("postgresql.cnpg.io/v1", "Cluster"), "finbot-database-cluster").spec;
            // The plugin, not the in-tree barmanObjectStore that CloudNativePG 1.31 removes.
            assert.equal(cluster.backup, undefined);
            assert.deepEqual(cluster.plugins, [
                { name: "barman-cloud.cloudnative-pg.io", isWALArchiver: true, parameters: { barmanObjectName: "finbot-db-backups" } },
            ]);
            assert.match(cluster.imageName, /^ghcr\.io\/cloudnative-pg\/postgresql:\d+\.\d+-(minimal|standard)-trixie$/);
            const store = inputs(dev, CR("barmancloud.cnpg.io/v1", "ObjectStore"), "finbot-database-object-store");
            assert.equal(store.metadata.name, "finbot-db-backups");
            assert.equal(store.spec.retentionPolicy, "14d");
            assert.equal(store.spec.configuration.destinationPath, "s3://finbot-postgresql/");
            assert.equal(store.spec.configuration.endpointURL, "http://backup-store.finbot-data.svc:9000");
            assert.equal(cluster.postgresql.parameters.archive_timeout, "5min");
            const scheduled = inputs(dev, CR("postgresql.cnpg.io/v1", "ScheduledBackup"), "finbot-database-daily-backup").spec;
            assert.deepEqual([scheduled.schedule, scheduled.cluster.name, scheduled.immediate], ["0 0 3 * * *", "finbot-db", true]);
            assert.deepEqual([scheduled.method, scheduled.pluginConfiguration], ["plugin", { name: "barman-cloud.cloudnative-pg.io" }]);
            // The plugin runs beside the operator (CloudNativePG looks for plugins in its own namespace), pinned.
            const plugin = inputs(dev, "kubernetes:helm.sh/v3:Release", "finbot-database-backup-plugin");
            assert.deepEqual([plugin.chart, plugin.version, plugin.namespace], ["plugin-barman-cloud", "0.7.0", "finbot-data"]);
            const rustfs = inputs(dev, "kubernetes:apps/v1:Deployment", "finbot-database-backups-server").spec.template.spec.containers[0];
            assert.equal(rustfs.image, "docker.io/rustfs/rustfs:1.0.0-rc.3");
            const env = Object.fromEntries(rustfs.env.map((e: Any) => [e.name, e.value ?? e.valueFrom]));
            assert.deepEqual(env.RUSTFS_SECRET_KEY, { secretKeyRef: { name: "pg-backup-store", key: "ACCESS_SECRET_KEY" } });
            assert.equal(env.RUSTFS_CONSOLE_ENABLE, "false");
            assert.equal(rustfs.securityContext.readOnlyRootFilesystem, true);
            const exportJob = inputs(dev, "kubernetes:batch/v1:CronJob", "finbot-queue-definitions-export").spec;
            assert.equal(exportJob.schedule, "7 * * * *");
            assert.match(
                exportJob.jobTemplate.spec.template.spec.containers[0].command[2],
                /--cacert \/tls\/ca\.crt .*:15671\/api\/definitions" \| sed -E 's\/"password_hash".*> \/exports\/tmp\.json/,
                "the export is kept without password hashes",
            );
        });

        it("the data tier's requests fit a laptop: at most 1 vCPU and 2 GiB", () => {
            const total = totalRequests(dev.platform.dataTier?.footprint.requests ?? []);
            assert.ok(total.millicores <= 1000, `${total.millicores}m`);
            assert.ok(total.bytes <= 2 * 2 ** 30, `${total.bytes / 2 ** 20}Mi`);
        });

        it("workers scale on their queue with KEDA, down to zero in dev", () => {
            const scaled = inputs(dev, CR("keda.sh/v1alpha1", "ScaledObject"), "finbot-settlement-worker");
            assert.deepEqual([scaled.spec.minReplicaCount, scaled.spec.maxReplicaCount], [0, 3]);
            assert.deepEqual(scaled.spec.triggers[0].metadata, {
                protocol: "amqp",
                queueName: "payments.settle",
                mode: "QueueLength",
                value: "20",
            });
            // KEDA reads queue lengths as its own user over AMQPS, verifying the internal CA.
            const auth = inputs(dev, CR("keda.sh/v1alpha1", "TriggerAuthentication"), "finbot-settlement-worker-auth");
            assert.deepEqual(
                auth.spec.secretTargetRef,
                ["host", "tls", "ca"].map((key) => ({ parameter: key, name: "keda-rabbitmq", key })),
            );
            const keda = (revealSecrets(dev.get("kubernetes:core/v1:Secret", "finbot-keda-rabbitmq").inputs) as Any).stringData;
            assert.match(keda.host, /^amqps:\/\/keda:\S+@finbot-queue\.finbot-data\.svc\.cluster\.local:5671\/%2F$/);
            assert.match(keda.ca, /^-----BEGIN CERTIFICATE-----/);
            const release = inputs(dev, "kubernetes:helm.sh/v3:Release", "finbot-autoscaling-keda");
            assert.deepEqual([release.chart, release.version], ["keda", "2.20.2"]);
            assert.equal(inputs(dev, "kubernetes:apps/v1:Deployment", "finbot-settlement-worker").spec.replicas, undefined);
        });

        it("every worker of both stacks has a liveness probe (a hung consumer holds its messages), and the schema requires one", () => {
            for (const run of [dev, prod])
                for (const worker of run.config.workers) {
                    const container = inputs(run, "kubernetes:apps/v1:Deployment", `finbot-${worker.name}`).spec.template.spec
                        .containers[0];
                    assert.deepEqual(container.livenessProbe.httpGet, { path: "/healthz", port: 9898 }, `${run.stack} ${worker.name}`);
                }
            const worker = { ...prod.config.workers[0] } as Record<string, unknown>;
            delete worker.health;
            assert.equal(workerSchema.safeParse(worker).success, false);
        });
    });

    describe("prod (AWS)", () => {
        it("Aurora: encrypted with its own key, master password managed by RDS, backups, deletion protection, final snapshot, protect", () => {
            const cluster = prod.get("aws:rds/cluster:Cluster", "finbot-database-aurora-cluster");
            const c = cluster.inputs as Any;
            assert.deepEqual([c.engine, c.engineVersion], ["aurora-postgresql", "17.6"]);
            assert.equal(c.storageEncrypted, true);
            assert.equal(c.manageMasterUserPassword, true);
            assert.equal(c.masterPassword, undefined, "no password in the program or its state");
            assert.ok(c.backupRetentionPeriod >= 14);
            assert.equal(c.deletionProtection, true);
            assert.equal(c.skipFinalSnapshot, false);
            assert.equal(c.finalSnapshotIdentifier, "finbot-finbot-final");
            assert.equal(cluster.protect, true);
            const instances = prod.ofType("aws:rds/clusterInstance:ClusterInstance");
            for (const i of instances) {
                const inst = i.inputs as Any;
                assert.equal(inst.publiclyAccessible, false);
                assert.equal(inst.performanceInsightsEnabled, true);
                assert.equal(i.protect, true);
            }
            assert.deepEqual(
                instances.map((i) => (i.inputs as Any).availabilityZone),
                ["eu-central-1a", "eu-central-1b", "eu-central-1c"],
                "writer and readers in different zones",
            );
        });

        it("readers scale with their CPU between readers.min and readers.max", () => {
            const target = inputs(prod, "aws:appautoscaling/target:Target", "finbot-database-aurora-readers");
            assert.deepEqual([target.scalableDimension, target.minCapacity, target.maxCapacity], ["rds:cluster:ReadReplicaCount", 2, 8]);
            const policy = inputs(prod, "aws:appautoscaling/policy:Policy", "finbot-database-aurora-readers-cpu");
            const tracking = policy.targetTrackingScalingPolicyConfiguration;
            assert.deepEqual(
                [tracking.predefinedMetricSpecification.predefinedMetricType, tracking.targetValue],
                ["RDSReaderAverageCPUUtilization", 60],
            );
        });

        it("RDS Proxy: TLS required, a Secrets Manager secret per login role (no admin), a read-only endpoint", () => {
            const proxy = inputs(prod, "aws:rds/proxy:Proxy", "finbot-database-aurora-proxy");
            assert.equal(proxy.engineFamily, "POSTGRESQL");
            assert.equal(proxy.requireTls, true);
            const roles = prod.ofType("aws:secretsmanager/secret:Secret").map((s) => (s.inputs as Any).name);
            assert.deepEqual(roles.sort(), [
                "finbot-finbot/roles/api",
                "finbot-finbot/roles/api_reader",
                // Grafana's, for its own database.
                "finbot-finbot/roles/grafana",
                "finbot-finbot/roles/settlement_worker",
                "finbot-finbot/roles/settlement_worker_reader",
            ]);
            assert.equal(proxy.auths.length, 5);
            const version = inputs(prod, "aws:secretsmanager/secretVersion:SecretVersion", "finbot-database-aurora-role-api");
            assert.ok(JSON.stringify(version.secretString).includes("1b47061264138c4ac30d75fd1eb44270"), "credentials are secret");
            assert.equal(
                inputs(prod, "aws:rds/proxyEndpoint:ProxyEndpoint", "finbot-database-aurora-proxy-read-only").targetRole,
                "READ_ONLY",
            );
        });

        it("the roles Job reads the master secret through its pod identity and may read nothing else", () => {
            const policy = JSON.parse(inputs(prod, "aws:iam/rolePolicy:RolePolicy", "finbot-database-aurora-roles-job").policy);
            assert.deepEqual(
                policy.Statement.map((s: Any) => s.Action),
                [["secretsmanager:GetSecretValue"], ["kms:Decrypt"]],
            );
            for (const statement of policy.Statement) for (const resource of statement.Resource) assert.doesNotMatch(resource, /\*/);
            const identity = inputs(prod, "aws:eks/podIdentityAssociation:PodIdentityAssociation", "finbot-database-aurora-roles-job");
            assert.deepEqual(
                [identity.clusterName, identity.namespace, identity.serviceAccount],
                ["finbot-prod", "finbot-data", "postgres-roles"],
            );
            const job = prod.ofType("kubernetes:batch/v1:Job").find((j) => j.name === "finbot-database-aurora-roles");
            const pod = (job?.inputs as Any).spec.template.spec;
            assert.equal(pod.volumes[0].emptyDir.medium, "Memory", "the master password never touches a disk");
            assert.equal(
                pod.containers[0].env.some((e: Any) => /MASTER|ADMIN/.test(e.name)),
                false,
            );
        });

        it("a cluster parameter group with pg_stat_statements, the slow-query log without bound values, TLS only", () => {
            const params = Object.fromEntries(
                inputs(prod, "aws:rds/clusterParameterGroup:ClusterParameterGroup", "finbot-database-aurora-params").parameters.map(
                    (p: Any) => [p.name, p.value],
                ),
            );
            assert.equal(params.shared_preload_libraries, "pg_stat_statements");
            assert.equal(params.log_min_duration_statement, "250");
            assert.equal(params.log_parameter_max_length, "0");
            assert.equal(params["rds.force_ssl"], "1");
        });

        it("backups are copied to a second region by AWS Backup, continuous for point-in-time recovery", () => {
            const plan = inputs(prod, "aws:backup/plan:Plan", "finbot-database-aurora-backup-plan");
            const rule = plan.rules[0];
            assert.equal(rule.enableContinuousBackup, true);
            assert.equal(rule.copyActions.length, 1);
            const copyVault = prod.get("aws:backup/vault:Vault", "finbot-database-aurora-copy-vault");
            assert.equal((copyVault.inputs as Any).region, "eu-west-1");
            assert.equal(copyVault.protect, true);
        });

        it("databases and caches admit only their clients' security group (pods), one rule per resource", () => {
            const ingress = prod.ofType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").map((r) => r.inputs as Any);
            assert.ok(ingress.length >= 4);
            for (const rule of ingress) {
                assert.equal(rule.cidrIpv4, undefined, "no CIDR ingress to a data store");
                assert.ok(rule.referencedSecurityGroupId, "from a security group");
            }
            const policies = prod.ofType(CR("vpcresources.k8s.aws/v1beta1", "SecurityGroupPolicy")).map((p) => p.inputs as Any);
            assert.deepEqual(policies.map((p) => `${p.metadata.namespace}/${p.metadata.name}`).sort(), [
                "finbot-apps/postgres-clients",
                "finbot-apps/redis-clients",
                "finbot-data/postgres-clients",
                "finbot-data/redis-clients",
                "finbot-monitoring/postgres-clients",
            ]);
            const api = inputs(prod, "kubernetes:apps/v1:Deployment", "finbot-api").spec.template.metadata.labels;
            assert.equal(api["finbot.io/postgres-client"], "true");
            assert.equal(api["finbot.io/redis-client"], "true");
            const worker = inputs(prod, "kubernetes:apps/v1:Deployment", "finbot-settlement-worker").spec.template.metadata.labels;
            assert.equal(worker["finbot.io/redis-client"], undefined, "the worker does not use the cache");
        });

        it("ElastiCache: a node per zone, failover, Multi-AZ, encrypted, RBAC users with the default off, eviction policy", () => {
            const group = prod.get("aws:elasticache/replicationGroup:ReplicationGroup", "finbot-cache-group");
            const g = group.inputs as Any;
            assert.equal(g.numCacheClusters, 3);
            assert.equal(g.automaticFailoverEnabled, true);
            assert.equal(g.multiAzEnabled, true);
            assert.equal(g.transitEncryptionEnabled, true);
            assert.equal(g.atRestEncryptionEnabled, true);
            assert.equal(g.engine, "valkey");
            assert.equal(g.authToken, undefined);
            const users = prod.ofType("aws:elasticache/user:User").map((u) => u.inputs as Any);
            assert.deepEqual(
                users.map((u) => u.userName),
                ["default", "api", "exporter"],
            );
            assert.equal(users[0].accessString, "off -@all");
            assert.match(users[1].accessString, /^on ~api:\* /);
            assert.ok(JSON.stringify(users[1].authenticationMode).includes("1b47061264138c4ac30d75fd1eb44270"), "passwords are secret");
            assert.equal(g.finalSnapshotIdentifier, "finbot-cache-final");
            assert.equal(group.protect, true);
            const params = inputs(prod, "aws:elasticache/parameterGroup:ParameterGroup", "finbot-cache-params");
            assert.deepEqual(params.parameters, [{ name: "maxmemory-policy", value: "volatile-lru" }]);
            assert.equal(params.family, "valkey8");
        });

        it("RabbitMQ: three nodes spread over zones, a PodDisruptionBudget, sizes from config", () => {
            const cluster = inputs(prod, CR("rabbitmq.com/v1beta1", "RabbitmqCluster"), "finbot-queue-cluster");
            assert.equal(cluster.spec.replicas, 3);
            assert.equal(cluster.spec.persistence.storage, "20Gi");
            assert.deepEqual(cluster.spec.resources, { requests: { cpu: "1", memory: "2Gi" }, limits: { memory: "2Gi" } });
            assert.equal(
                cluster.spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey,
                "topology.kubernetes.io/zone",
            );
            assert.equal(inputs(prod, "kubernetes:policy/v1:PodDisruptionBudget", "finbot-queue-pdb").spec.maxUnavailable, 1);
        });

        it("workers never scale to zero in prod", () => {
            const scaled = inputs(prod, CR("keda.sh/v1alpha1", "ScaledObject"), "finbot-settlement-worker");
            assert.deepEqual([scaled.spec.minReplicaCount, scaled.spec.maxReplicaCount], [2, 40]);
        });
    });

    it("hashes RabbitMQ passwords as rabbit_password_hashing_sha256 does (RabbitMQ's documented example)", () => {
        assert.equal(rabbitPasswordHash("test12", Buffer.from("908DC60A", "hex")), "kI3GCqW5JLMJa4iX1lo7X4D6XbYqlLgxIs30+P6tENUV2POR");
        assert.equal(rabbitPasswordHash("same"), rabbitPasswordHash("same"), "stable across runs");
    });

    it("each service and worker gets only what it uses, with its own credentials, verified TLS, same keys in both stacks", () => {
        const contract = (run: PlatformRun, consumer: string) =>
            (revealSecrets(run.get("kubernetes:core/v1:Secret", `finbot-${consumer}-connections`).inputs) as Any).stringData;
        const keys = Object.values(CONNECTION_KEYS).flat().sort();
        for (const run of [dev, prod]) {
            assert.deepEqual(Object.keys(contract(run, "api")).sort(), keys);
            // The worker uses the database and consumes its queue, no cache.
            assert.deepEqual(Object.keys(contract(run, "settlement-worker")).sort(), [...CONNECTION_KEYS.database, "AMQP_URL"].sort());
        }
        const d = contract(dev, "api");
        const p = contract(prod, "api");
        const worker = contract(dev, "settlement-worker");
        assert.match(
            d.DATABASE_POOLED_URL,
            /^postgresql:\/\/api:\S+@finbot-db-pooler-rw\.finbot-data\.svc\.cluster\.local:5432\/finbot\?sslmode=verify-full&sslrootcert=%2Fetc%2Ffinbot%2Fca%2Finternal-ca\.crt$/,
        );
        assert.match(d.DATABASE_READER_URL, /^postgresql:\/\/api_reader:\S+@finbot-db-ro\.finbot-data/);
        assert.match(
            p.DATABASE_POOLED_URL,
            /^postgresql:\/\/api:\S+@finbot-finbot-proxy\.proxy-\w+\.eu-central-1\.rds\.amazonaws\.com:5432\/finbot\?sslmode=verify-full&sslrootcert=system$/,
        );
        assert.match(p.DATABASE_READER_URL, /^postgresql:\/\/api_reader:\S+@finbot-finbot-read-only\.endpoint\.proxy-/);
        assert.match(worker.DATABASE_WRITER_URL, /^postgresql:\/\/settlement_worker:/);
        assert.match(d.REDIS_URL, /^redis:\/\/api:\S+@redis\.finbot-data\.svc\.cluster\.local:6379\/0$/);
        assert.match(p.REDIS_URL, /^rediss:\/\/api:\S+@master\./);
        // Its key prefix and TTL policy travel with its cache URL (uses.cacheTtl, 1h unless the stack says).
        for (const c of [d, p]) assert.deepEqual([c.REDIS_KEY_PREFIX, c.REDIS_MAX_TTL_SECONDS], ["api:", "3600"]);
        assert.match(d.AMQP_URL, /^amqps:\/\/api:\S+@finbot-queue\.finbot-data\.svc\.cluster\.local:5671\/%2F$/);
        assert.match(worker.AMQP_URL, /^amqps:\/\/settlement-worker:/);
        // Each consumer's passwords are its own.
        assert.notEqual(new URL(d.DATABASE_WRITER_URL).password, new URL(worker.DATABASE_WRITER_URL).password);
        const deployment = inputs(dev, "kubernetes:apps/v1:Deployment", "finbot-api");
        const container = deployment.spec.template.spec.containers[0];
        assert.ok(container.envFrom.some((e: Any) => e.secretRef.name === "api-connections"));
        assert.deepEqual(
            container.volumeMounts.find((m: Any) => m.name === "ca-bundle"),
            { name: "ca-bundle", mountPath: "/etc/finbot/ca", readOnly: true },
        );
        assert.ok(
            JSON.stringify(dev.get("kubernetes:core/v1:Secret", "finbot-api-connections").inputs).includes(
                "1b47061264138c4ac30d75fd1eb44270",
            ),
        );
    });
});

describe("Aurora's backups are locked", () => {
    it("both vaults carry a governance-mode lock: a week at least, never past the lifecycle, protected in prod", async () => {
        const prod = await runStack("prod");
        const locks = prod.ofType("aws:backup/vaultLockConfiguration:VaultLockConfiguration");
        const vaults = prod.ofType("aws:backup/vault:Vault").map((v) => (v.inputs as Any).name);
        assert.deepEqual(locks.map((l) => (l.inputs as Any).backupVaultName).sort(), vaults.sort());
        for (const lock of locks) {
            const inputs = lock.inputs as Any;
            assert.equal(inputs.changeableForDays, undefined, "governance mode: it can be lifted");
            assert.equal(inputs.minRetentionDays, 7);
            assert.ok(inputs.maxRetentionDays >= 7);
            assert.ok(prod.resources.find((r) => r.urn === lock.urn)?.protect);
        }
    });
});

describe("the platform's own Aurora clients verify the server", () => {
    it("the roles Job and the exporters connect with verify-full against the RDS CA bundle, fetched when the program runs", async () => {
        const prod = await runStack("prod");
        const files = prod.get("kubernetes:core/v1:ConfigMap", "finbot-database-aurora-client-files").inputs as Any;
        // The offline plan stands in for the download the program makes (the deploy runner reaches the internet; no pod does).
        assert.match(files.data["rds-ca.pem"], /https:\/\/truststore\.pki\.rds\.amazonaws\.com\/global\/global-bundle\.pem/);
        const job = (prod.get("kubernetes:batch/v1:Job", "finbot-database-aurora-roles").inputs as Any).spec.template.spec;
        const env = Object.fromEntries(job.containers[0].env.map((e: Any) => [e.name, e.value]));
        assert.deepEqual([env.PGSSLMODE, env.PGSSLROOTCERT], ["verify-full", "/etc/aurora-client/rds-ca.pem"]);
        assert.deepEqual(
            job.volumes.find((v: Any) => v.configMap)?.configMap.name,
            "aurora-client",
            "the bundle is mounted where PGSSLROOTCERT points",
        );
        for (const target of ["writer", "readers"]) {
            const pod = (prod.get("kubernetes:apps/v1:Deployment", `finbot-database-aurora-postgres-exporter-${target}`).inputs as Any).spec
                .template.spec;
            const uri = pod.containers[0].env.find((e: Any) => e.name === "DATA_SOURCE_URI").value;
            assert.match(uri, /:5432\/postgres\?sslmode=verify-full&sslrootcert=\/etc\/aurora-client\/rds-ca\.pem$/, target);
            assert.equal(pod.volumes[0].configMap.name, "aurora-client");
        }
    });
});

describe("Aurora's replication lag, from what Aurora has", () => {
    let prod: PlatformRun;
    before(async () => {
        prod = await runStack("prod");
    });

    it("turns off the collectors that fail on Aurora and reads the lag from aurora_replica_status() on the writer", () => {
        for (const target of ["writer", "readers"]) {
            const container = (
                prod.get("kubernetes:apps/v1:Deployment", `finbot-database-aurora-postgres-exporter-${target}`).inputs as Any
            ).spec.template.spec.containers[0];
            assert.ok(container.args.includes("--no-collector.replication") && container.args.includes("--no-collector.wal"), target);
            assert.equal(container.args.includes("--extend.query-path=/etc/aurora-client/queries.yaml"), target === "writer");
        }
        const queries = YAML.parse(
            (prod.get("kubernetes:core/v1:ConfigMap", "finbot-database-aurora-client-files").inputs as Any).data["queries.yaml"],
        );
        assert.match(queries.aurora_replica.query, /FROM aurora_replica_status\(\) WHERE session_id <> 'MASTER_SESSION_ID'/);
        assert.deepEqual(
            queries.aurora_replica.metrics.map((m: Record<string, unknown>) => Object.keys(m)[0]),
            ["server_id", "lag_seconds"],
        );
        // The rule and both panels read the series that query writes (<namespace>_<column>).
        const rules = JSON.stringify(prod.ofType("kubernetes:monitoring.coreos.com/v1:PrometheusRule").map((r) => r.inputs));
        assert.match(rules, /aurora_replica_lag_seconds\{namespace=\\"finbot-data\\"\} > 30/);
        assert.ok(!rules.includes("pg_replication_lag_seconds"), "no rule reads what the failing collector would write");
    });

    it("pages nobody but opens a ticket when a reader is 30 s behind for 5 minutes (promtool, series as postgres_exporter writes them)", function () {
        requireTool(this, "promtool", "prometheus");
        const dir = scratchDir("aurora-lag");
        const file = writeRuleFile(dir, [databaseRules(prod.config.database, "finbot-data")], { annotations: false });
        const series = (reader: string) =>
            `aurora_replica_lag_seconds{namespace="finbot-data", job="finbot-data/postgres-exporter-writer", aurora_endpoint="writer", server="finbot-prod.cluster-abc.eu-central-1.rds.amazonaws.com:5432", server_id="${reader}"}`;
        const result = promtoolTest(file, [
            {
                interval: "1m",
                input_series: [
                    { series: series("finbot-prod-reader-1"), values: "0.02x5 45x10" },
                    { series: series("finbot-prod-reader-2"), values: "0.02x15" },
                ],
                alert_rule_test: [
                    { eval_time: "8m", alertname: "FinbotPostgresReplicationLag", exp_alerts: [] },
                    {
                        eval_time: "12m",
                        alertname: "FinbotPostgresReplicationLag",
                        exp_alerts: [
                            {
                                exp_labels: {
                                    severity: "ticket",
                                    namespace: "finbot-data",
                                    job: "finbot-data/postgres-exporter-writer",
                                    aurora_endpoint: "writer",
                                    server: "finbot-prod.cluster-abc.eu-central-1.rds.amazonaws.com:5432",
                                    server_id: "finbot-prod-reader-1",
                                },
                            },
                        ],
                    },
                ],
            },
        ]);
        assert.equal(result.status, 0, result.output);
    });
});

describe("release manifests", () => {
    const manifest = "apiVersion: v1\nkind: Namespace\nmetadata: { name: rabbitmq-system }\n";
    const url = "https://github.com/rabbitmq/cluster-operator/releases/download/v2.22.3/cluster-operator.yml";

    it("are applied only when their bytes match the pinned SHA-256", () => {
        assert.equal(verifyManifest({ url, sha256: sha256Of(manifest) }, manifest), manifest);
        assert.throws(
            () => verifyManifest({ url, sha256: sha256Of(manifest) }, `${manifest}# tampered\n`),
            (e: Error) => e instanceof ManifestChecksumError && e.message.startsWith(`${url}: SHA-256 is `),
        );
    });

    it("are refused by a production deployment until their checksum is recorded, and listed by the plan", () => {
        const read = readStackFile("prod", PROJECT_DIR);
        assert.ok(read.ok);
        const planned = validateConfig(read.raw, "allow");
        assert.ok(planned.ok && planned.placeholders.includes("finbot:releases.manifests.rabbitmq-cluster-operator.sha256"));
        const deployed = validateConfig(read.raw, "reject");
        assert.ok(
            !deployed.ok &&
                deployed.errors.some((e) => e.includes("finbot:releases.manifests.rabbitmq-cluster-operator.sha256: expected the SHA-256")),
        );
    });
});
