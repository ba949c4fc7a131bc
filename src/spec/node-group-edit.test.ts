import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isTenkaiError } from "../shared/errors.js";
import { setActiveSlot } from "./node-group-edit.js";

const flow = `# platform
spec:
  nodeGroups:
    # the general pool
    - {
        name: general,
        instanceTypes: [m6i.large],   # keep
        activeSlot: blue,
        local: { nodes: real },
      }
    - { name: batch, instanceTypes: [c7i.large], activeSlot: "green" }
`;

describe("setActiveSlot", () => {
  it("changes only the value's bytes in a flow map, keeping comments and layout", () => {
    const r = setActiveSlot(flow, "platform.yaml", "general", "green");
    assert.equal(r.changed, true);
    assert.equal(r.text, flow.replace("activeSlot: blue,", "activeSlot: green,"));
  });

  it("keeps the value's quoting", () => {
    const r = setActiveSlot(flow, "platform.yaml", "batch", "blue");
    assert.equal(r.text, flow.replace('activeSlot: "green"', 'activeSlot: "blue"'));
  });

  it("is unchanged when the file says that slot already", () => {
    const r = setActiveSlot(flow, "platform.yaml", "general", "blue");
    assert.deepEqual(r, { text: flow, changed: false });
  });

  it("keeps CRLF line endings", () => {
    const crlf = flow.replace(/\n/g, "\r\n");
    const r = setActiveSlot(crlf, "platform.yaml", "general", "green");
    assert.equal(r.text, crlf.replace("activeSlot: blue,", "activeSlot: green,"));
  });

  it("adds activeSlot to a block group without one, at the group's indent", () => {
    const block =
      "spec:\r\n  nodeGroups:\r\n    - name: general\r\n      min: 3 # three\r\n  tenants: []\r\n";
    const r = setActiveSlot(block, "platform.yaml", "general", "green");
    assert.equal(
      r.text,
      "spec:\r\n  nodeGroups:\r\n    - name: general\r\n      min: 3 # three\r\n      activeSlot: green\r\n  tenants: []\r\n",
    );
  });

  it("adds activeSlot to a flow group without one", () => {
    const text = "spec:\n  nodeGroups: [{ name: general, min: 3 }]\n";
    assert.equal(
      setActiveSlot(text, "p.yaml", "general", "green").text,
      "spec:\n  nodeGroups: [{ name: general, min: 3, activeSlot: green }]\n",
    );
  });

  it("refuses a group the file does not have", () => {
    assert.throws(
      () => setActiveSlot(flow, "platform.yaml", "gpu", "green"),
      (e: unknown) => isTenkaiError(e, "CLI_UNKNOWN_NODE_GROUP") && /platform\.yaml/.test(e.message),
    );
  });
});
