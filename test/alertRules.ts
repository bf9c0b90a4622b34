// What the promtool tests share: the dev API with both SLOs at 99.9% (the objectives the SLO
// scenarios are stated for) and the runner of a file's scenarios. The rule groups they evaluate are
// the platform's (platformRuleGroups; test/monitoring.test.ts checks that the deployed rules are those).
import * as assert from "node:assert/strict";
import { PlatformConfig, ServiceConfig } from "../components/config/schema";
import { RuleGroup } from "../components/monitoring/rules";
import { PromtoolTestCase, checkedNames, groupsFor, promtoolTestAll } from "../scripts/lib/promtool";

/** The dev API with its latency SLO tightened to 99.9%, to test the latency SLI like availability. */
export function sloTestService(dev: PlatformConfig): ServiceConfig {
    const api = dev.services[0];
    return { ...api, slo: { ...api.slo, latency: { ...api.slo.latency, percent: 99.9 } } };
}

/**
 * The promtool scenarios of a describe block: `add` registers each as a test that reports its own
 * result; `run` (in `before`) runs them all in one promtool invocation, each against the rules its
 * alerts read among the groups it may use.
 */
export class PromtoolScenarios {
    private readonly scenarios: Array<{ build: () => PromtoolTestCase[]; evaluationInterval: string; uses: (g: RuleGroup) => boolean }> =
        [];
    private results: Array<{ passed: boolean; output: string }> = [];

    add(title: string, build: () => PromtoolTestCase[], evaluationInterval = "1m", uses: (g: RuleGroup) => boolean = () => true): void {
        const index = this.scenarios.push({ build, evaluationInterval, uses }) - 1;
        it(title, () => assert.ok(this.results[index].passed, this.results[index].output));
    }

    run(dir: string, groups: RuleGroup[]): void {
        this.results = promtoolTestAll(
            dir,
            this.scenarios.map(({ build, evaluationInterval, uses }) => {
                const cases = build();
                return { groups: groupsFor(groups.filter(uses), checkedNames(cases)), cases, evaluationInterval };
            }),
        );
    }
}
