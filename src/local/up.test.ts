import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { providerForGroup, taintKwokNodes } from "../providers/choose.js";
import { loadPlatform } from "../spec/load.js";
import { localStatus } from "./down.js";
import { activeSlotSpec, asLocal, localZones } from "./up.js";

describe("tenkai local up: what it decides before touching anything", async () => {
  const example = await loadPlatform(new URL("../../examples/platform.yaml", import.meta.url).pathname);
  const local = asLocal(example);

  it("runs a cloud spec on the local target, leaving the spec itself alone", () => {
    assert.equal(example.spec.target, "aws");
    assert.equal(local.spec.target, "local");
    assert.equal(providerForGroup(example, example.spec.nodeGroups[0]!), "eks");
  });

  it("creates each group's active slot with the spec's size, over one zone per AZ", () => {
    const general = local.spec.nodeGroups[0]!;
    assert.equal(providerForGroup(local, general), "local");
    const s = activeSlotSpec(local, general);
    assert.equal(s.nodegroupName, "general-blue");
    assert.equal(s.desired, 3);
    assert.deepEqual(s.zones, ["ap-northeast-1a", "ap-northeast-1b", "ap-northeast-1c"]);
    assert.deepEqual(
      localZones({ ...local, spec: { ...local.spec, network: { ...local.spec.network, azs: 2 } } }),
      ["ap-northeast-1a", "ap-northeast-1b"],
    );
  });

  it("puts groups without local.nodes on kwok, tainted only when real nodes share the cluster", () => {
    const kwokOnly = {
      ...local,
      spec: { ...local.spec, nodeGroups: local.spec.nodeGroups.map((g) => ({ ...g, local: undefined })) },
    };
    assert.equal(providerForGroup(kwokOnly, kwokOnly.spec.nodeGroups[0]!), "kwok");
    assert.equal(taintKwokNodes(kwokOnly), false);
    assert.equal(taintKwokNodes(local), true);
  });

  it("status of a directory with no cluster says absent", async () => {
    const dir = join(mkdtempSync(join(tmpdir(), "tenkai-local-")), "none");
    const s = await localStatus({ clusterDir: dir });
    assert.equal(s.state, "absent");
    assert.deepEqual(s.nodes, []);
  });
});
