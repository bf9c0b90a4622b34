import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import YAML from "yaml";
import { totalRequests } from "../components/lib/footprint";
import { OBSERVABILITY_KEYS, logstashPipeline } from "../components/logging";
import { lifecycleScript } from "../components/logging/lifecycle";
import { PlatformRun, revealSecrets, runStack } from "./harness";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;
const ELASTIC = (group: string, version: string, kind: string) => `kubernetes:${group}.k8s.elastic.co/${version}:${kind}`;
const ES = ELASTIC("elasticsearch", "v1", "Elasticsearch");

describe("logging (ECK)", () => {
    let dev: PlatformRun;
    let prod: PlatformRun;
    before(async () => {
        dev = await runStack("dev");
        prod = await runStack("prod");
    });

    it("installs the pinned ECK operator first and every Elastic resource after it", () => {
        for (const run of [dev, prod]) {
            const operator = run.get("kubernetes:helm.sh/v3:Release", "finbot-logging-eck-operator");
            assert.deepEqual([(operator.inputs as Any).chart, (operator.inputs as Any).version], ["eck-operator", "3.5.0"]);
            const elastic = run.resources.filter((r) => /\.k8s\.elastic\.co\//.test(r.type));
            assert.deepEqual(elastic.map((r) => (r.inputs as Any).kind).sort(), [
                "ApmServer",
                "Beat",
                "Elasticsearch",
                "Kibana",
                "Logstash",
            ]);
            for (const r of elastic) {
                assert.ok(r.dependsOn.includes(operator.urn), `${r.name} waits for the CRDs`);
                assert.equal((r.inputs as Any).spec.version, "9.4.3");
            }
        }
    });

    it("dev: one Elasticsearch node with a small heap, sized from config", () => {
        const nodeSet = (dev.get(ES, "finbot-logging-elasticsearch").inputs as Any).spec.nodeSets[0];
        assert.equal(nodeSet.count, 1);
        assert.deepEqual(nodeSet.podTemplate.spec.containers[0].env, [{ name: "ES_JAVA_OPTS", value: "-Xms512m -Xmx512m" }]);
        assert.deepEqual(nodeSet.resources, { requests: { cpu: "500m", memory: "1Gi" }, limits: { memory: "1Gi" } });
        assert.equal(nodeSet.volumeClaimTemplates[0].metadata.name, "elasticsearch-data");
        assert.equal(nodeSet.volumeClaimTemplates[0].spec.resources.requests.storage, "5Gi");
        assert.equal(nodeSet.config["node.store.allow_mmap"], false);
        assert.equal(nodeSet.zoneAwareness, undefined);
    });

    it("prod: three zone-aware nodes, a PodDisruptionBudget, large volumes, replicated Kibana, Logstash and APM", () => {
        const es = (prod.get(ES, "finbot-logging-elasticsearch").inputs as Any).spec;
        assert.equal(es.nodeSets[0].count, 3);
        assert.deepEqual(es.nodeSets[0].zoneAwareness, {});
        assert.equal(es.nodeSets[0].volumeClaimTemplates[0].spec.resources.requests.storage, "200Gi");
        assert.equal(es.nodeSets[0].volumeClaimTemplates[0].spec.storageClassName, "finbot-retain");
        assert.equal(es.podDisruptionBudget.spec.maxUnavailable, 1);
        assert.equal((prod.get(ELASTIC("kibana", "v1", "Kibana"), "finbot-logging-kibana").inputs as Any).spec.count, 2);
        assert.equal((prod.get(ELASTIC("logstash", "v1alpha1", "Logstash"), "finbot-logging-logstash").inputs as Any).spec.count, 2);
        assert.equal((prod.get(ELASTIC("apm", "v1", "ApmServer"), "finbot-logging-apm").inputs as Any).spec.count, 2);
    });

    it("keeps logs days in dev and weeks in prod, as a real lifecycle policy and index template", () => {
        const requests = (run: PlatformRun) => {
            const map = run.ofType("kubernetes:core/v1:ConfigMap").find((r) => r.name === "finbot-logging-lifecycle-requests")!;
            const data = (map.inputs as Any).data;
            return {
                policy: JSON.parse(data["ilm-policy.json"]),
                template: JSON.parse(data["index-template.json"]),
                name: (map.inputs as Any).metadata.name,
            };
        };
        const d = requests(dev);
        const p = requests(prod);
        assert.equal(d.policy.policy.phases.delete.min_age, "7d");
        assert.equal(p.policy.policy.phases.delete.min_age, "28d");
        assert.deepEqual(d.policy.policy.phases.hot.actions.rollover, { max_age: "1d", max_primary_shard_size: "10gb" });
        assert.deepEqual(p.template.index_patterns, ["logs-finbot-*"]);
        assert.equal(p.template.template.settings["index.lifecycle.name"], "finbot-logs");
        assert.equal(p.template.template.settings["index.number_of_replicas"], 1);
        assert.equal(d.template.template.settings["index.number_of_replicas"], 0);
        // Real users' page loads (APM's RUM data stream) are kept as long as the logs.
        for (const run of [dev, prod]) {
            const map = run.ofType("kubernetes:core/v1:ConfigMap").find((r) => r.name === "finbot-logging-lifecycle-requests")!;
            const rum = JSON.parse((map.inputs as Any).data["rum-retention.json"]);
            assert.equal(rum.template.settings["index.lifecycle.name"], "finbot-logs");
        }
        assert.match(
            lifecycleScript("https://es:9200"),
            /-X PUT "https:\/\/es:9200\/_component_template\/traces-apm\.rum@custom" --data-binary @\/requests\/rum-retention\.json/,
        );
        assert.ok(p.template.priority > 100, "wins over the built-in logs-*-* template");
        assert.notEqual(d.name, p.name, "the Job is named after what it applies, so a change re-runs it");
        const job = dev.ofType("kubernetes:batch/v1:Job").find((j) => j.name === "finbot-logging-lifecycle")!.inputs as Any;
        const script = job.spec.template.spec.containers[0].command[2];
        assert.match(
            script,
            /-X PUT "https:\/\/logs-es-http\.finbot-logging\.svc:9200\/_ilm\/policy\/finbot-logs" --data-binary @\/requests\/ilm-policy\.json/,
        );
        assert.match(script, /_index_template\/finbot-logs/);
        // As the lifecycle user, never `elastic`.
        assert.deepEqual(job.spec.template.spec.containers[0].env, [
            { name: "ES_USER", value: "finbot-lifecycle" },
            { name: "ES_PASSWORD", valueFrom: { secretKeyRef: { name: "es-user-lifecycle", key: "password" } } },
        ]);
        assert.ok(dev.get("kubernetes:batch/v1:CronJob", "finbot-logging-lifecycle-reapply"), "an hourly re-apply undoes hand edits");
    });

    it("Logstash parses JSON lines, keeps plain lines, and writes to the environment's data stream", () => {
        const logstash = (dev.get(ELASTIC("logstash", "v1alpha1", "Logstash"), "finbot-logging-logstash").inputs as Any).spec;
        const pipeline: string = logstash.pipelines[0]["config.string"];
        assert.equal(pipeline, logstashPipeline({ clusterEnvPrefix: "FINBOT", environment: "staging" }));
        assert.match(pipeline, /beats \{\s+port => 5044\s+ssl_enabled => true/);
        assert.match(pipeline, /json \{\s+source => "message"/);
        assert.match(pipeline, /skip_on_invalid_json => true/);
        assert.match(pipeline, /add_tag => \["finbot_plain_text"\]/);
        assert.match(pipeline, /remove_field => \[.*"password"/);
        assert.match(pipeline, /data_stream => "true"[\s\S]*data_stream_dataset => "finbot"[\s\S]*data_stream_namespace => "staging"/);
        assert.match(pipeline, /hosts => \[ "\$\{FINBOT_ES_HOSTS\}" \]/);
        // Logstash signs in as its own writer user, verifying Elasticsearch against the internal CA.
        assert.deepEqual(logstash.elasticsearchRefs, [{ clusterName: "finbot", secretName: "logstash-elasticsearch" }]);
        const connection = (revealSecrets(dev.get("kubernetes:core/v1:Secret", "finbot-logging-logstash-es").inputs) as Any).stringData;
        assert.deepEqual([connection.url, connection.username], ["https://logs-es-http.finbot-logging.svc:9200", "finbot-logstash"]);
        assert.match(connection["ca.crt"], /^-----BEGIN CERTIFICATE-----/);
        assert.deepEqual(logstash.podTemplate.spec.volumes, [{ name: "beats-tls", secret: { secretName: "logstash-beats-tls" } }]);
    });

    it("Filebeat runs on every node from the node-agents namespace and ships to Logstash over verified TLS", () => {
        const beat = dev.get(ELASTIC("beat", "v1beta1", "Beat"), "finbot-logging-filebeat-daemonset").inputs as Any;
        assert.equal(beat.metadata.namespace, "finbot-node-agents");
        assert.equal(beat.spec.type, "filebeat");
        assert.ok(beat.spec.daemonSet);
        assert.equal(beat.spec.config.filebeat.autodiscover.providers[0].type, "kubernetes");
        assert.deepEqual(beat.spec.config.output.logstash, {
            hosts: ["logs-ls-beats.finbot-logging.svc:5044"],
            ssl: { enabled: true, certificate_authorities: ["/etc/finbot/ca/internal-ca.crt"], verification_mode: "full" },
        });
        assert.ok(dev.get("kubernetes:rbac.authorization.k8s.io/v1:ClusterRole", "finbot-logging-filebeat"));
    });

    it("dev's Elasticsearch, Kibana, Logstash and APM request at most 1.5 vCPU and 3.5 GiB", () => {
        const { millicores: cpu, bytes: memory } = totalRequests(dev.platform.logging?.footprint.requests ?? []);
        assert.ok(cpu <= 1500, `${cpu}m`);
        assert.ok(memory <= 3.5 * 2 ** 30, `${memory / 2 ** 20}Mi`);
    });

    it("APM: the program's secret token reaches APM Server and every service, as Secrets", () => {
        const apm = (dev.get(ELASTIC("apm", "v1", "ApmServer"), "finbot-logging-apm").inputs as Any).spec;
        assert.equal(apm.config["apm-server.auth.secret_token"], "${FINBOT_APM_SECRET_TOKEN}");
        const token = (revealSecrets(dev.get("kubernetes:core/v1:Secret", "finbot-logging-apm-token").inputs) as Any).stringData.token;
        const observability = dev.get("kubernetes:core/v1:Secret", "finbot-api-observability");
        const data = (revealSecrets(observability.inputs) as Any).stringData;
        assert.equal(data.ELASTIC_APM_SECRET_TOKEN, token);
        assert.equal(data.ELASTIC_APM_SERVER_URL, "https://apm-apm-http.finbot-logging.svc.cluster.local:8200");
        assert.equal(data.ELASTIC_APM_SERVER_CA_CERT_FILE, "/etc/finbot/ca/internal-ca.crt");
        assert.deepEqual(apm.http, { tls: { certificate: { secretName: "apm-tls" } } });
        assert.equal(data.ELASTIC_APM_SERVICE_NAME, "api");
        assert.equal(data.SENTRY_DSN, undefined, "error tracking is off in dev");
        assert.ok(JSON.stringify(observability.inputs).includes("1b47061264138c4ac30d75fd1eb44270"));
        const envFrom = (dev.get("kubernetes:apps/v1:Deployment", "finbot-api").inputs as Any).spec.template.spec.containers[0].envFrom;
        assert.ok(envFrom.some((e: Any) => e.secretRef.name === "api-observability"));
    });

    it("prod: a Sentry project and key per service and worker; the DSN, a secret, points at the egress gateway's Sentry listener", () => {
        assert.deepEqual(
            prod
                .ofType("sentry:index/sentryProject:SentryProject")
                .map((p) => (p.inputs as Any).slug)
                .sort(),
            ["finbot-api", "finbot-settlement-worker"],
        );
        assert.equal(dev.ofType("sentry:index/sentryProject:SentryProject").length, 0);
        const secret = prod.get("kubernetes:core/v1:Secret", "finbot-settlement-worker-observability");
        const data = (revealSecrets(secret.inputs) as Any).stringData;
        assert.deepEqual(Object.keys(data).sort(), [...OBSERVABILITY_KEYS].sort());
        // Same key and project as Sentry's DSN; the host is the gateway's listener of the first provider, Sentry.
        assert.match(data.SENTRY_DSN, /^https:\/\/[0-9a-f]{32}@envoy-finbot-egress\.finbot-traffic\.svc:11000\/\d+$/);
        assert.equal(prod.config.thirdParties[0].name, "sentry");
    });

    it("gives each client its own Elasticsearch user and role; nothing the program runs signs in as elastic", () => {
        for (const run of [dev, prod]) {
            const es = (run.get(ES, "finbot-logging-elasticsearch").inputs as Any).spec;
            assert.deepEqual(es.auth.roles, [{ secretName: "logs-roles" }]);
            assert.deepEqual(
                es.auth.fileRealm.map((r: Any) => r.secretName),
                ["es-user-exporter", "es-user-lifecycle", "es-user-logstash", "es-user-viewer"],
            );
            assert.deepEqual(es.http.tls.certificate, { secretName: "logs-es-http-tls" });
            assert.ok(
                !JSON.stringify(run.resources.map((r) => r.inputs)).includes("logs-es-elastic-user"),
                "no one reads the elastic password",
            );
        }
        const roles = YAML.parse(
            (revealSecrets(dev.get("kubernetes:core/v1:Secret", "finbot-logging-es-roles").inputs) as Any).stringData["roles.yml"],
        );
        assert.deepEqual(roles.finbot_exporter.cluster, ["monitor", "read_ilm", "read_slm"]);
        assert.deepEqual(roles.finbot_logstash_writer.indices, [
            { names: ["logs-finbot-*"], privileges: ["create_doc", "auto_configure", "view_index_metadata"] },
        ]);
        assert.ok(!roles.finbot_log_reader.indices[0].privileges.some((p: string) => /^(write|index|delete|manage|all|create.*)$/.test(p)));
        const user = (revealSecrets(dev.get("kubernetes:core/v1:Secret", "finbot-logging-es-user-exporter").inputs) as Any).stringData;
        assert.deepEqual([user.username, user.roles], ["finbot-exporter", "finbot_exporter"]);
        const exporter = dev.get("kubernetes:helm.sh/v3:Release", "finbot-logging-elasticsearch-exporter").inputs as Any;
        assert.deepEqual(exporter.values.env, { ES_USERNAME: "finbot-exporter" });
        // In prod people come through single sign-on and read logs as the viewer; dev keeps Kibana's own login.
        const kibana = (run: PlatformRun) => (run.get(ELASTIC("kibana", "v1", "Kibana"), "finbot-logging-kibana").inputs as Any).spec;
        assert.equal(kibana(prod).config["xpack.security.authc.providers"].anonymous.sso.credentials.username, "finbot-viewer");
        assert.deepEqual(kibana(dev).config, {});
    });

    it("the lifecycle Job's script sends every request body the ConfigMap holds, the snapshot lifecycle included", () => {
        for (const run of [dev, prod]) {
            const job = run.ofType("kubernetes:batch/v1:Job").find((j) => j.name === "finbot-logging-lifecycle")!.inputs as Any;
            const script: string = job.spec.template.spec.containers[0].command[2];
            const bodies = Object.keys(
                (run.ofType("kubernetes:core/v1:ConfigMap").find((r) => r.name === "finbot-logging-lifecycle-requests")!.inputs as Any)
                    .data,
            );
            // Run the script itself with a curl that records what it is asked to send.
            const dir = mkdtempSync(path.join(tmpdir(), "finbot-lifecycle-"));
            writeFileSync(path.join(dir, "curl"), `#!/bin/sh\necho "$*" >> "${dir}/calls"\n`, { mode: 0o755 });
            const ran = spawnSync("sh", ["-c", script], {
                encoding: "utf8",
                env: { PATH: `${dir}:/usr/bin:/bin`, ES_USER: "finbot-lifecycle", ES_PASSWORD: "x" },
                timeout: 10_000,
            });
            assert.equal(ran.status, 0, ran.stderr);
            const sent = readFileSync(path.join(dir, "calls"), "utf8")
                .split("\n")
                .flatMap((call) => {
                    const m = /-X PUT https:\/\/[^/]+(\/\S+) --data-binary @\/requests\/(\S+)/.exec(call);
                    return m ? [[m[1], m[2]]] : [];
                });
            assert.deepEqual(sent.map(([, file]) => file).sort(), [...bodies].sort(), "every body is sent");
            assert.ok(
                sent.some(([api, file]) => api.startsWith("/_slm/policy/") && file === "snapshot-policy.json"),
                "the snapshot lifecycle",
            );
        }
    });

    it("snapshots every night, kept as long as the logs: a volume in dev, S3 with a web identity in prod", () => {
        const bodies = (run: PlatformRun) => {
            const data = (
                run.ofType("kubernetes:core/v1:ConfigMap").find((r) => r.name === "finbot-logging-lifecycle-requests")!.inputs as Any
            ).data;
            return { repository: JSON.parse(data["snapshot-repository.json"]), policy: JSON.parse(data["snapshot-policy.json"]) };
        };
        assert.deepEqual(bodies(dev).repository, { type: "fs", settings: { location: "/usr/share/elasticsearch/snapshots" } });
        assert.equal(bodies(prod).repository.type, "s3");
        assert.match(bodies(prod).repository.settings.bucket, /^finbot-production-log-snapshots-\d+$/);
        assert.deepEqual(bodies(prod).policy.retention.expire_after, "28d");
        assert.deepEqual(bodies(prod).policy.config.indices, ["logs-finbot-*"]);
        const nodeSet = (prod.get(ES, "finbot-logging-elasticsearch").inputs as Any).spec.nodeSets[0];
        // The region given twice: the nodes cannot ask the instance metadata (hop limit 1).
        assert.equal(nodeSet.config["s3.client.default.region"], "eu-central-1");
        assert.ok(nodeSet.podTemplate.spec.containers[0].env.some((e: Any) => e.name === "AWS_REGION" && e.value === "eu-central-1"));
        assert.equal(nodeSet.podTemplate.spec.volumes[0].projected.sources[0].serviceAccountToken.audience, "sts.amazonaws.com");
        const trust = JSON.parse((prod.get("aws:iam/role:Role", "finbot-logging-snapshots").inputs as Any).assumeRolePolicy);
        assert.deepEqual(Object.values(trust.Statement[0].Condition.StringEquals), [
            "system:serviceaccount:finbot-logging:elasticsearch",
            "sts.amazonaws.com",
        ]);
        const bucket = prod.get("aws:s3/bucket:Bucket", "finbot-logging-snapshots");
        assert.equal(bucket.protect, true);
        // Encrypted with a key of its own, kept like the bucket; only the snapshot role may use it.
        const key = prod.get("aws:kms/key:Key", "finbot-logging-snapshots");
        assert.deepEqual([key.protect, key.retainOnDelete, (key.inputs as Any).enableKeyRotation], [true, true, true]);
        const sse = (
            prod.get("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "finbot-logging-snapshots")
                .inputs as Any
        ).rules[0];
        assert.deepEqual(sse.applyServerSideEncryptionByDefault, { sseAlgorithm: "aws:kms", kmsMasterKeyId: (key.state as Any).arn });
        const policy = JSON.parse((prod.get("aws:iam/rolePolicy:RolePolicy", "finbot-logging-snapshots").inputs as Any).policy);
        assert.deepEqual(policy.Statement.at(-1), {
            Effect: "Allow",
            Action: ["kms:GenerateDataKey", "kms:Decrypt"],
            Resource: [(key.state as Any).arn],
        });
        assert.equal((prod.get(ES, "finbot-logging-elasticsearch").inputs as Any).spec.volumeClaimDeletePolicy, "DeleteOnScaledownOnly");
        assert.equal(prod.get(ES, "finbot-logging-elasticsearch").protect, true);
    });

    it("keeps the root file systems read-only where the images support it: Elasticsearch, Kibana and APM Server, not Logstash or Filebeat", () => {
        const container = (type: string, name: string, pick: (spec: Any) => Any) => pick((prod.get(type, name).inputs as Any).spec);
        const readOnly = (c: Any) => c.securityContext?.readOnlyRootFilesystem === true;
        assert.ok(readOnly(container(ES, "finbot-logging-elasticsearch", (s) => s.nodeSets[0].podTemplate.spec.containers[0])));
        assert.ok(
            readOnly(
                container("kubernetes:kibana.k8s.elastic.co/v1:Kibana", "finbot-logging-kibana", (s) => s.podTemplate.spec.containers[0]),
            ),
        );
        const apm = container("kubernetes:apm.k8s.elastic.co/v1:ApmServer", "finbot-logging-apm", (s) => s.podTemplate.spec);
        assert.ok(readOnly(apm.containers[0]));
        assert.deepEqual(apm.containers[0].volumeMounts, [{ name: "tmp", mountPath: "/tmp" }]);
        const logstash = container(
            "kubernetes:logstash.k8s.elastic.co/v1alpha1:Logstash",
            "finbot-logging-logstash",
            (s) => s.podTemplate.spec.containers[0],
        );
        assert.equal(readOnly(logstash), false, "Logstash's image has no read-only support (elastic/logstash#10905)");
        const rabbit = (prod.get("kubernetes:rabbitmq.com/v1beta1:RabbitmqCluster", "finbot-queue-cluster").inputs as Any).spec.override
            .statefulSet.spec.template.spec;
        for (const c of [...rabbit.containers, ...rabbit.initContainers]) assert.ok(readOnly(c), c.name);
    });

    it("monitors the pipeline: the Elasticsearch exporter, its alerts and a dashboard", () => {
        const exporter = dev.get("kubernetes:helm.sh/v3:Release", "finbot-logging-elasticsearch-exporter").inputs as Any;
        assert.deepEqual([exporter.chart, exporter.version], ["prometheus-elasticsearch-exporter", "7.4.0"]);
        assert.equal(exporter.values.serviceMonitor.enabled, true);
        const groups = (dev.get("kubernetes:monitoring.coreos.com/v1:PrometheusRule", "finbot-monitoring-rules").inputs as Any).spec.groups;
        const alerts = groups.find((g: Any) => g.name === "finbot-elasticsearch").rules.map((r: Any) => r.alert);
        assert.deepEqual(alerts, [
            "FinbotElasticsearchClusterRed",
            "FinbotElasticsearchTooFewNodes",
            "FinbotElasticsearchHeapHigh",
            "FinbotElasticsearchDiskWatermark",
        ]);
        assert.ok(dev.ofType("kubernetes:core/v1:ConfigMap").some((r) => r.name === "finbot-monitoring-dashboard-finbot-logging"));
        const prodGroups = (prod.get("kubernetes:monitoring.coreos.com/v1:PrometheusRule", "finbot-monitoring-rules").inputs as Any).spec
            .groups;
        const prodAlerts = prodGroups.find((g: Any) => g.name === "finbot-elasticsearch").rules.map((r: Any) => r.alert);
        assert.ok(prodAlerts.includes("FinbotElasticsearchClusterYellow"), "yellow only alerts where replicas can be assigned");
    });
});
