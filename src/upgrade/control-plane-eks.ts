/**
 * The EKS control plane and EKS add-ons move through the EKS API: UpdateClusterVersion (one minor)
 * and UpdateAddon, each followed by DescribeUpdate until the update is Successful, Failed or
 * Cancelled, within the step's bound. A run killed while it waited finds the update still under way
 * (ListUpdates) and waits for it instead of starting a second one.
 */
import {
  DescribeAddonCommand,
  DescribeClusterCommand,
  DescribeUpdateCommand,
  type EKSClient,
  ListUpdatesCommand,
  type Update,
  UpdateAddonCommand,
  UpdateClusterVersionCommand,
} from "@aws-sdk/client-eks";
import { type Clock, systemClock } from "../shared/clock.js";
import { type ErrorCode, TenkaiError } from "../shared/errors.js";
import type { AddonDriver, ControlPlaneDriver } from "./run-types.js";
import { parseMinor } from "./versions.js";

export interface EksUpgradeOptions {
  readonly client: EKSClient;
  readonly clusterName: string;
  /** Between DescribeUpdate calls. Default 30 s (a control-plane update takes 10 to 30 min). */
  readonly pollMs?: number;
  /** Default: the system clock (its sleep is what tests replace). */
  readonly clock?: Clock;
}

function awsMessage(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

function awsName(err: unknown): string {
  return err instanceof Error ? err.name : "";
}

/** Polls DescribeUpdate until the update ends; returns it when Successful. */
async function waitUpdate(
  o: EksUpgradeOptions,
  updateId: string,
  what: string,
  failCode: ErrorCode,
  timeoutMs: number,
  addonName?: string,
): Promise<Update> {
  const clock = o.clock ?? systemClock;
  const deadline = clock.now() + timeoutMs;
  for (;;) {
    const r = await o.client.send(
      new DescribeUpdateCommand({ name: o.clusterName, updateId, ...(addonName ? { addonName } : {}) }),
    );
    const u = r.update;
    if (u?.status === "Successful") return u;
    if (u?.status === "Failed" || u?.status === "Cancelled") {
      const errors = (u.errors ?? []).map((e) => `${e.errorCode}: ${e.errorMessage}`).join("; ");
      throw new TenkaiError(
        failCode,
        `${what}: EKS update ${updateId} ${u.status.toLowerCase()}${errors ? `: ${errors}` : ""}`,
        `see aws eks describe-update --name ${o.clusterName} --update-id ${updateId}${addonName ? ` --addon-name ${addonName}` : ""}; fix the cause, then run tenkai upgrade run again`,
        { details: { updateId, status: u.status, errors: u.errors ?? [] } },
      );
    }
    if (clock.now() >= deadline) {
      throw new TenkaiError(
        "UPGRADE_STEP_TIMEOUT",
        `${what}: EKS update ${updateId} still ${u?.status ?? "unknown"} after ${Math.round(timeoutMs / 1000)} s`,
        "run tenkai upgrade run again later: it waits for the same update (or pass a longer --timeout)",
        { details: { updateId } },
      );
    }
    await clock.sleep(o.pollMs ?? 30_000);
  }
}

export class EksControlPlane implements ControlPlaneDriver {
  readonly name = "eks";
  constructor(private readonly o: EksUpgradeOptions) {}

  async version(): Promise<string> {
    const r = await this.o.client.send(new DescribeClusterCommand({ name: this.o.clusterName }));
    const v = r.cluster?.version;
    if (!v)
      throw new TenkaiError(
        "UPGRADE_UNKNOWN_VERSION",
        `EKS DescribeCluster ${this.o.clusterName} returned no version`,
        "check the cluster name and the AWS credentials' region",
      );
    return v;
  }

  async upgrade(minor: string, timeoutMs: number): Promise<string> {
    const what = `control plane of ${this.o.clusterName} → ${minor}`;
    if ((await this.version()) === minor) return minor;
    // A run killed while it waited: the update it started is still under way.
    const running = await updateInProgress(this.o, "VersionUpdate");
    let updateId = running;
    if (!updateId) {
      try {
        const r = await this.o.client.send(
          new UpdateClusterVersionCommand({ name: this.o.clusterName, version: minor }),
        );
        updateId = r.update?.id;
      } catch (err) {
        throw new TenkaiError(
          "UPGRADE_CONTROL_PLANE_FAILED",
          `${what}: UpdateClusterVersion: ${awsMessage(err)}`,
          awsName(err) === "InvalidRequestException"
            ? "EKS refuses while node groups run an older minor than the control plane or another update runs; see tenkai upgrade plan"
            : "check the AWS credentials may call eks:UpdateClusterVersion, then run again",
          { cause: err },
        );
      }
    }
    if (!updateId)
      throw new TenkaiError(
        "UPGRADE_CONTROL_PLANE_FAILED",
        `${what}: EKS returned no update id`,
        "run again",
      );
    await waitUpdate(this.o, updateId, what, "UPGRADE_CONTROL_PLANE_FAILED", timeoutMs);
    const after = await this.version();
    if (after !== minor)
      throw new TenkaiError(
        "UPGRADE_CONTROL_PLANE_FAILED",
        `${what}: the update succeeded but the cluster reports ${after}`,
        "run tenkai upgrade run again",
      );
    return after;
  }

  nodeVersion(version: string): string {
    const m = parseMinor(version);
    return m ? `${m.major}.${m.minor}` : version;
  }
}

/** The id of an update of `type` still under way (a killed run's), if any. */
async function updateInProgress(
  o: EksUpgradeOptions,
  type: string,
  addonName?: string,
): Promise<string | undefined> {
  const list = await o.client.send(
    new ListUpdatesCommand({ name: o.clusterName, ...(addonName ? { addonName } : {}) }),
  );
  for (const id of list.updateIds ?? []) {
    const u = await o.client.send(
      new DescribeUpdateCommand({ name: o.clusterName, updateId: id, ...(addonName ? { addonName } : {}) }),
    );
    if (u.update?.status === "InProgress" && u.update.type === type) return id;
  }
  return undefined;
}

export class EksAddons implements AddonDriver {
  constructor(private readonly o: EksUpgradeOptions) {}

  async update(
    addon: { name: string; kind: "eks-addon" | "chart"; to: string },
    timeoutMs: number,
  ): Promise<{ outcome: "moved" } | { outcome: "skipped"; reason: string }> {
    if (addon.kind === "chart")
      throw new TenkaiError(
        "UPGRADE_ADDON_MANUAL",
        `${addon.name} must move to ${addon.to}; it is a chart the platform renders, not an EKS add-on`,
        "move it with tenkai apply (update the chart's version), then run tenkai upgrade run again: it resumes at this step",
        { details: { addon: addon.name, to: addon.to } },
      );
    const what = `EKS add-on ${addon.name} → ${addon.to}`;
    let current: string | undefined;
    try {
      const d = await this.o.client.send(
        new DescribeAddonCommand({ clusterName: this.o.clusterName, addonName: addon.name }),
      );
      current = d.addon?.addonVersion;
      if (current === addon.to && d.addon?.status === "ACTIVE") return { outcome: "moved" };
    } catch (err) {
      if (awsName(err) === "ResourceNotFoundException")
        return {
          outcome: "skipped",
          reason: `${addon.name} is not installed as an EKS add-on of ${this.o.clusterName} (self-managed: move it with its own manifests)`,
        };
      throw new TenkaiError(
        "UPGRADE_ADDON_FAILED",
        `${what}: DescribeAddon: ${awsMessage(err)}`,
        "run again",
        {
          cause: err,
        },
      );
    }
    let updateId = await updateInProgress(this.o, "AddonUpdate", addon.name);
    if (!updateId) {
      try {
        const r = await this.o.client.send(
          new UpdateAddonCommand({
            clusterName: this.o.clusterName,
            addonName: addon.name,
            addonVersion: addon.to,
            // Keep the operator's own changes to the add-on's settings; fail rather than overwrite them.
            resolveConflicts: "PRESERVE",
          }),
        );
        updateId = r.update?.id;
      } catch (err) {
        throw new TenkaiError(
          "UPGRADE_ADDON_FAILED",
          `${what}: UpdateAddon: ${awsMessage(err)}`,
          `check the version exists for the cluster's minor: aws eks describe-addon-versions --addon-name ${addon.name}`,
          { cause: err },
        );
      }
    }
    if (!updateId)
      throw new TenkaiError("UPGRADE_ADDON_FAILED", `${what}: EKS returned no update id`, "run again");
    await waitUpdate(this.o, updateId, what, "UPGRADE_ADDON_FAILED", timeoutMs, addon.name);
    return { outcome: "moved" };
  }
}
