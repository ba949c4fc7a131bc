/**
 * A rotation of a test fixture in a process of its own, so a fault test can SIGKILL it mid-run:
 *   node --import tsx test/support/rotation-child.ts <kubeconfig> <fixture-spec-json>
 * Streams the engine's events as NDJSON on stdout. Test support only.
 */
import { KubeConfig } from "@kubernetes/client-node";
import { KwokNodeProvider } from "../../src/providers/kwok/index.js";
import { rotationCluster } from "../../src/rotation/cluster.js";
import { rotate } from "../../src/rotation/rotate.js";
import { type FixtureSpec, fixtureOptions } from "./rotation-fixture.js";

const [kubeconfig, specJson] = process.argv.slice(2);
if (!kubeconfig || !specJson) {
  process.stderr.write("usage: rotation-child.ts <kubeconfig> <fixture-spec-json>\n");
  process.exit(2);
}
const kc = new KubeConfig();
kc.loadFromFile(kubeconfig);
const spec = JSON.parse(specJson) as FixtureSpec;
await rotate(fixtureOptions(spec, { maxDraining: 1 }), {
  cluster: rotationCluster(kc),
  provider: new KwokNodeProvider({ kubeConfig: kc }),
  sink: (e) => process.stdout.write(`${JSON.stringify(e)}\n`),
});
