/**
 * tenkai's side of bench/upgrade-scan-vs-pluto.ts, in a process of its own so its peak memory is
 * its own: `tenkai upgrade plan`'s live scan (planUpgrade with a cluster client) of one cluster.
 *
 *   node --import tsx bench/upgrade-scan-child.ts KUBECONFIG PLATFORM_FILE TO
 *
 * Prints one JSON line: the API findings, the plan's wall time, and process.resourceUsage().maxRSS.
 */
import { KubeConfig } from "@kubernetes/client-node";
import { KubeClient } from "../src/kube/api/client.js";
import { loadPlatform } from "../src/spec/load.js";
import { planUpgrade } from "../src/upgrade/plan.js";

const [kubeconfig, file, to] = process.argv.slice(2);
if (!kubeconfig || !file || !to) throw new Error("usage: upgrade-scan-child.ts KUBECONFIG PLATFORM_FILE TO");
const kc = new KubeConfig();
kc.loadFromFile(kubeconfig);
const client = new KubeClient(kc, { maxSockets: 16 });
const platform = await loadPlatform(file);
const t0 = performance.now();
const plan = await planUpgrade({ platform, to, specFile: file, kubectlVersion: "v1.36.0" }, { client });
const planMs = performance.now() - t0;
client.close();
const findings = plan.findings
  .filter((f) => f.area === "api" && f.source !== "platform")
  .map((f) => ({
    id: f.id,
    object: f.object,
    source: f.source,
    location: f.location,
    apiVersion: f.apiVersion,
  }));
process.stdout.write(`${JSON.stringify({ planMs, maxRssKb: process.resourceUsage().maxRSS, findings })}\n`);
