// renovate.json: a schema check of the options it uses, and its custom managers run over the
// files they target, so every pin is known to become a pull request when upstream moves.
import * as assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import * as path from "node:path";
import YAML from "yaml";
import { z } from "zod";
import { CHARTS, ELASTIC_STACK_VERSION, MANIFESTS, PLATFORM_IMAGES } from "../components/config/releases";
import { PROJECT_DIR } from "./harness";

const customManager = z.strictObject({
    customType: z.literal("regex"),
    description: z.string(),
    managerFilePatterns: z.array(z.string().regex(/^\/.+\/$/)).min(1),
    matchStrings: z.array(z.string()).min(1),
    datasourceTemplate: z.enum(["helm", "docker", "github-releases", "github-tags", "npm"]).optional(),
    depNameTemplate: z.string().optional(),
});
const packageRule = z.strictObject({
    description: z.string(),
    matchFileNames: z.array(z.string()).optional(),
    matchDepNames: z.array(z.string()).optional(),
    matchManagers: z.array(z.string()).optional(),
    matchPackageNames: z.array(z.string()).optional(),
    enabled: z.boolean().optional(),
    groupName: z.string().optional(),
    allowedVersions: z.string().optional(),
});
const renovateSchema = z.strictObject({
    $schema: z.literal("https://docs.renovatebot.com/renovate-schema.json"),
    description: z.string(),
    extends: z.array(z.string()),
    dependencyDashboard: z.boolean(),
    prConcurrentLimit: z.number().int().positive(),
    customManagers: z.array(customManager),
    packageRules: z.array(packageRule),
});
type Renovate = z.output<typeof renovateSchema>;

interface Dependency {
    file: string;
    depName: string;
    packageName?: string;
    currentValue: string;
    datasource?: string;
    registryUrl?: string;
}

/** What Renovate's regex managers extract from the repository's tracked files (without the disabled ones). */
function extract(config: Renovate): Dependency[] {
    const files = ["components/config/releases.json", ...readdirSync(PROJECT_DIR).filter((f) => f.startsWith("Pulumi."))];
    const deps: Dependency[] = [];
    for (const manager of config.customManagers) {
        const patterns = manager.managerFilePatterns.map((p) => new RegExp(p.slice(1, -1)));
        for (const file of files.filter((f) => patterns.some((p) => p.test(f)))) {
            const text = readFileSync(path.join(PROJECT_DIR, file), "utf8");
            for (const matchString of manager.matchStrings) {
                for (const m of text.matchAll(new RegExp(matchString, "g"))) {
                    const g = m.groups ?? {};
                    deps.push({
                        file,
                        depName: manager.depNameTemplate ?? g.depName,
                        packageName: g.packageName,
                        currentValue: g.currentValue,
                        datasource: manager.datasourceTemplate,
                        registryUrl: g.registryUrl,
                    });
                }
            }
        }
    }
    const disabled = config.packageRules.filter((r) => r.enabled === false).flatMap((r) => r.matchFileNames ?? []);
    return deps.filter((d) => !disabled.includes(d.file));
}

describe("Renovate configuration", () => {
    const config = renovateSchema.parse(JSON.parse(readFileSync(path.join(PROJECT_DIR, "renovate.json"), "utf8")));
    const deps = extract(config);
    const find = (depName: string) => deps.filter((d) => d.depName === depName);

    it("uses only the options the schema check knows (a typo fails)", () => {
        assert.ok(!renovateSchema.safeParse({ ...config, packageRule: [] }).success);
        assert.ok(!customManager.safeParse({ ...config.customManagers[0], fileMatch: ["x"] }).success);
    });

    it("finds every chart pin with its repository", () => {
        for (const [name, chart] of Object.entries(CHARTS)) {
            const found = find(name).filter((d) => d.file === "components/config/releases.json");
            assert.equal(found.length, 1, name);
            assert.equal(found[0].currentValue, chart.version);
            if (chart.repo.startsWith("oci://"))
                assert.deepEqual([found[0].datasource, found[0].packageName], ["docker", chart.repo.slice(6)]);
            else assert.deepEqual([found[0].datasource, found[0].registryUrl], ["helm", chart.repo]);
        }
    });

    it("finds every platform image, FinBot's images in dev, the Elastic Stack and the release manifests", () => {
        for (const image of Object.values(PLATFORM_IMAGES)) {
            const [depName, tag] = [image.slice(0, image.lastIndexOf(":")), image.slice(image.lastIndexOf(":") + 1)];
            assert.ok(
                find(depName).some(
                    (d) => d.file === "components/config/releases.json" && d.currentValue === tag && d.datasource === "docker",
                ),
                image,
            );
        }
        const devImages = YAML.parse(readFileSync(path.join(PROJECT_DIR, "Pulumi.dev.yaml"), "utf8")).config["finbot:releases"].images;
        for (const image of Object.values(devImages) as string[])
            assert.ok(
                find(image.slice(0, image.lastIndexOf(":"))).some((d) => d.file === "Pulumi.dev.yaml"),
                image,
            );
        assert.deepEqual(
            find("docker.elastic.co/elasticsearch/elasticsearch").map((d) => d.currentValue),
            [ELASTIC_STACK_VERSION],
        );
        for (const manifest of Object.values(MANIFESTS))
            assert.deepEqual(
                find(manifest.repository).map((d) => [d.datasource, d.currentValue]),
                [["github-releases", manifest.version]],
            );
    });

    it("never bumps prod: it moves only by promotion", () => {
        assert.ok(!deps.some((d) => d.file === "Pulumi.prod.yaml"));
        assert.ok(
            config.customManagers.some((m) => m.managerFilePatterns.some((p) => new RegExp(p.slice(1, -1)).test("Pulumi.prod.yaml"))),
            "prod's images would match; the package rule is what disables them",
        );
    });
});
