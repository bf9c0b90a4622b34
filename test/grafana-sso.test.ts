// Grafana's single sign-on: people signed in at the gateway reach Grafana as themselves, with the
// role their groups give them. The role expression is evaluated by a JMESPath implementation (the
// language Grafana's role_attribute_path is written in), not compared as text.
import * as assert from "node:assert/strict";
import { search } from "jmespath";
import { grafanaRolePath } from "../components/monitoring/grafanaSso";
import { PlatformRun, runStack } from "./harness";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

const grafanaValues = (run: PlatformRun): Any =>
    (run.get("kubernetes:helm.sh/v3:Release", "finbot-monitoring-kube-prometheus-stack").inputs as Any).values.grafana;

describe("Grafana's single sign-on", () => {
    const roleOf = (path: string, claims: Record<string, unknown>) => search(claims, path) as unknown;

    it("gives Admin to an admin group, Editor to an editor group, Viewer to everyone else the gateway admits", () => {
        const path = grafanaRolePath("groups", { admin: ["platform-admins", "sre"], editor: ["oncall"] });
        assert.equal(roleOf(path, { groups: ["oncall", "sre"] }), "Admin");
        assert.equal(roleOf(path, { groups: ["platform-admins"] }), "Admin");
        assert.equal(roleOf(path, { groups: ["oncall"] }), "Editor");
        assert.equal(roleOf(path, { groups: ["readers"] }), "Viewer");
        // No groups claim at all: a Viewer, not an error that would refuse the sign-in.
        assert.equal(roleOf(path, { email: "a@example.com" }), "Viewer");
        assert.equal(roleOf(grafanaRolePath("groups", { admin: [], editor: [] }), { groups: ["sre"] }), "Viewer");
    });

    it("reads a claim of any name and groups with quotes in them as data, never as expression", () => {
        const path = grafanaRolePath("cognito:groups", { admin: ["it's-admins"], editor: [] });
        assert.equal(roleOf(path, { "cognito:groups": ["it's-admins"] }), "Admin");
        assert.equal(roleOf(path, { "cognito:groups": ["its-admins"] }), "Viewer");
        assert.equal(roleOf(path, { groups: ["it's-admins"] }), "Viewer");
    });

    describe("in the plans", () => {
        let dev: PlatformRun;
        let prod: PlatformRun;
        before(async () => {
            dev = await runStack("dev");
            prod = await runStack("prod");
        });

        it("prod: Grafana verifies the gateway's ID token against the provider's keys, fetched through the egress gateway", () => {
            const values = grafanaValues(prod);
            const jwt = values["grafana.ini"]["auth.jwt"];
            assert.equal(jwt.enabled, true);
            assert.equal(jwt.header_name, "x-finbot-id-token");
            assert.deepEqual(JSON.parse(jwt.expect_claims), { iss: "https://login.replace-me.example.com", aud: "REPLACE_ME" });
            // The keys' path at the provider, on the egress gateway's listener for it (after the three third parties).
            assert.equal(jwt.jwk_set_url, "https://envoy-finbot-egress.finbot-traffic.svc:11003/.well-known/jwks.json");
            assert.equal(jwt.tls_client_ca, "/etc/finbot/ca/internal-ca.crt");
            assert.equal(jwt.allow_assign_grafana_admin, false);
            assert.equal(roleOf(jwt.role_attribute_path, { groups: ["finbot-platform-admins"] }), "Admin");
            assert.equal(roleOf(jwt.role_attribute_path, { groups: ["finbot-platform-oncall"] }), "Editor");
            // The internal CA it verifies the egress gateway with, mounted from its own namespace.
            assert.deepEqual(values.extraConfigmapMounts, [
                { name: "finbot-ca", mountPath: "/etc/finbot/ca", configMap: "finbot-ca", readOnly: true },
            ]);
            const ca = prod.get("kubernetes:core/v1:ConfigMap", "finbot-monitoring-ca-bundle").inputs as Any;
            assert.equal(ca.metadata.namespace, "finbot-monitoring");
            assert.match(ca.data["internal-ca.crt"], /BEGIN CERTIFICATE/);
            // The route to the keys: the provider's host, verified with the system's CAs, on its own listener.
            const backend = prod.get(
                "kubernetes:gateway.envoyproxy.io/v1alpha1:Backend",
                "finbot-traffic-egress-identity-provider-backend",
            );
            assert.deepEqual((backend.inputs as Any).spec.endpoints, [{ fqdn: { hostname: "login.replace-me.example.com", port: 443 } }]);
        });

        it("dev (basic auth at the gateway): Grafana keeps its own login, and no route to an identity provider exists", () => {
            const values = grafanaValues(dev);
            assert.equal(values["grafana.ini"]["auth.jwt"], undefined);
            assert.equal(values.extraConfigmapMounts, undefined);
            assert.ok(!dev.resources.some((r) => r.name.includes("identity-provider")));
        });
    });
});
