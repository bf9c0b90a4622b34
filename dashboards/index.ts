// The dashboards, one file each. Parts delivered by other areas add theirs when enabled.
import { alertsOverview } from "./alertsOverview";
import { autoscaling } from "./autoscaling";
import { business } from "./business";
import { DashboardContext, DashboardDefinition } from "./common";
import { platformOverview } from "./platformOverview";
import { serviceSlo } from "./serviceSlo";

export type { DashboardContext, DashboardDefinition } from "./common";
export { cost as costDashboard } from "./cost";
export { pageLoad as pageLoadDashboard } from "./pageLoad";
export { alertQualityDashboard } from "./alertQuality";
export { thirdPartyApisDashboard } from "./thirdPartyApis";

/** The monitoring area's own dashboards. */
export function coreDashboards(ctx: DashboardContext): DashboardDefinition[] {
    return [platformOverview(ctx), serviceSlo(ctx), autoscaling(ctx), business(ctx), alertsOverview(ctx)];
}
