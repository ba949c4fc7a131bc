/** Loads a kubeconfig for a named context, with errors that say which contexts exist. */
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { TenkaiError } from "../../shared/errors.js";

export interface KubeConfigOptions {
  /** Context to use. Default: the kubeconfig's current context. */
  readonly context?: string;
  /** Path to the kubeconfig. Default: $KUBECONFIG, else ~/.kube/config. */
  readonly kubeconfig?: string;
}

export function loadKubeConfig(options: KubeConfigOptions = {}): KubeConfig {
  const kc = new KubeConfig();
  const path =
    options.kubeconfig ?? process.env.KUBECONFIG?.split(":")[0] ?? join(homedir(), ".kube", "config");
  if (!existsSync(path)) {
    throw new TenkaiError(
      "KUBE_NO_KUBECONFIG",
      `kubeconfig ${path} does not exist`,
      "pass --kubeconfig PATH, or set KUBECONFIG (aws eks update-kubeconfig writes one)",
    );
  }
  kc.loadFromFile(path);
  if (options.context) {
    if (!kc.getContexts().some((c) => c.name === options.context)) {
      const known =
        kc
          .getContexts()
          .map((c) => c.name)
          .join(", ") || "(none)";
      throw new TenkaiError(
        "KUBE_UNKNOWN_CONTEXT",
        `context "${options.context}" is not in ${path}`,
        `use one of: ${known}`,
      );
    }
    kc.setCurrentContext(options.context);
  }
  return kc;
}
