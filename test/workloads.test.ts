import * as assert from "node:assert/strict";
import { PlatformRun, RecordedResource, awaitOutput, runStack } from "./harness";

const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
const HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler";
const PDB = "kubernetes:policy/v1:PodDisruptionBudget";
const SERVICE = "kubernetes:core/v1:Service";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

/** Children of an AutoscaledService (not the data tier's or the charts' objects). */
const ofService = (r: RecordedResource) => r.urn.includes("finbot:workloads:AutoscaledService$");

describe("workloads (AutoscaledService)", () => {
    let dev: PlatformRun;
    let prod: PlatformRun;
    before(async () => {
        dev = await runStack("dev");
        prod = await runStack("prod");
    });

    it("creates a Deployment, Service, HPA and PDB per service, all in the apps namespace", () => {
        for (const run of [dev, prod]) {
            for (const type of [DEPLOYMENT, SERVICE, HPA, PDB]) {
                const objects = run.ofType(type).filter(ofService);
                assert.equal(objects.length, run.config.services.length, `${run.stack}: ${type}`);
                for (const o of objects) assert.equal((o.inputs as Any).metadata.namespace, "finbot-apps");
            }
            const namespace = run.get("kubernetes:core/v1:Namespace", "finbot-apps").inputs as Any;
            assert.equal(namespace.metadata.labels["pod-security.kubernetes.io/enforce"], "restricted");
        }
    });

    it("leaves spec.replicas to the HPA", () => {
        for (const run of [dev, prod]) {
            const scaled = run.ofType(DEPLOYMENT).filter((d) => ofService(d) || d.urn.includes("QueueWorker$"));
            assert.ok(scaled.length >= 2);
            for (const d of scaled) assert.equal((d.inputs as Any).spec.replicas, undefined, d.name);
        }
    });

    it("sizes the HPA per stack: dev 1-4 on a laptop, prod 3-30", () => {
        const devHpa = dev.get(HPA, "finbot-api").inputs as Any;
        const prodHpa = prod.get(HPA, "finbot-api").inputs as Any;
        assert.deepEqual([devHpa.spec.minReplicas, devHpa.spec.maxReplicas], [1, 4]);
        assert.deepEqual([prodHpa.spec.minReplicas, prodHpa.spec.maxReplicas], [3, 30]);
        assert.equal(prodHpa.spec.scaleTargetRef.name, "api");
        const targets = Object.fromEntries(
            prodHpa.spec.metrics.map((m: Any) =>
                m.type === "Resource"
                    ? [m.resource.name, m.resource.target.averageUtilization]
                    : [m.pods.metric.name, m.pods.target.averageValue],
            ),
        );
        assert.deepEqual(targets, { cpu: 65, memory: 80, http_requests_per_second: "150" });
    });

    it("scales up fast and down slowly", () => {
        const behavior = (prod.get(HPA, "finbot-api").inputs as Any).spec.behavior;
        assert.equal(behavior.scaleUp.stabilizationWindowSeconds, 0);
        assert.equal(behavior.scaleUp.selectPolicy, "Max");
        assert.deepEqual(
            behavior.scaleUp.policies.map((p: Any) => `${p.type}:${p.value}/${p.periodSeconds}s`),
            ["Percent:100/15s", "Pods:4/15s"],
        );
        assert.equal(behavior.scaleDown.stabilizationWindowSeconds, 300);
        assert.deepEqual(behavior.scaleDown.policies, [{ type: "Percent", value: 10, periodSeconds: 60 }]);
    });

    it("runs hardened, probed pods with requests and limits from config", () => {
        const pod = (prod.get(DEPLOYMENT, "finbot-api").inputs as Any).spec.template.spec;
        const [container] = pod.containers;
        assert.equal(container.image, "ghcr.io/stefanprodan/podinfo:6.9.2");
        assert.deepEqual(container.resources, { requests: { cpu: "250m", memory: "256Mi" }, limits: { cpu: "1", memory: "512Mi" } });
        assert.equal(container.livenessProbe.httpGet.path, "/healthz");
        assert.equal(container.readinessProbe.httpGet.path, "/readyz");
        assert.equal(container.startupProbe.httpGet.path, "/healthz");
        assert.equal(pod.securityContext.runAsNonRoot, true);
        assert.equal(container.securityContext.allowPrivilegeEscalation, false);
        assert.equal(container.securityContext.readOnlyRootFilesystem, true);
        assert.deepEqual(container.securityContext.capabilities.drop, ["ALL"]);
        assert.deepEqual(container.volumeMounts, [
            { name: "writable-tmp", mountPath: "/tmp" },
            { name: "ca-bundle", mountPath: "/etc/finbot/ca", readOnly: true },
        ]);
        assert.equal(pod.automountServiceAccountToken, false);
    });

    it("spreads pods across zones strictly in prod and best-effort in dev", () => {
        const spread = (run: PlatformRun) =>
            Object.fromEntries(
                (run.get(DEPLOYMENT, "finbot-api").inputs as Any).spec.template.spec.topologySpreadConstraints.map((c: Any) => [
                    c.topologyKey,
                    c.whenUnsatisfiable,
                ]),
            );
        assert.deepEqual(spread(prod), { "topology.kubernetes.io/zone": "DoNotSchedule", "kubernetes.io/hostname": "ScheduleAnyway" });
        assert.deepEqual(spread(dev), { "topology.kubernetes.io/zone": "ScheduleAnyway", "kubernetes.io/hostname": "ScheduleAnyway" });
    });

    it("rolls out without losing capacity and keeps one replica disruptable at a time", () => {
        const strategy = (prod.get(DEPLOYMENT, "finbot-api").inputs as Any).spec.strategy;
        assert.deepEqual(strategy, { type: "RollingUpdate", rollingUpdate: { maxSurge: "25%", maxUnavailable: 0 } });
        const pdb = prod.get(PDB, "finbot-api").inputs as Any;
        assert.equal(pdb.spec.maxUnavailable, 1);
        assert.deepEqual(pdb.spec.selector.matchLabels, (prod.get(DEPLOYMENT, "finbot-api").inputs as Any).spec.selector.matchLabels);
    });

    it("exposes each service's in-cluster URL as a stack output", async () => {
        assert.deepEqual(await awaitOutput(dev.platform.serviceUrls), { api: "http://api.finbot-apps.svc.cluster.local:9898" });
    });
});
