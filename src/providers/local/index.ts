export {
  clusterScriptPath,
  runClusterScript,
  type ScriptResult,
  type ScriptRunner,
} from "./cluster-scripts.js";
export { type LocalImages, localImages, parseEnvFile } from "./images.js";
export {
  LOCAL_PROVIDER_ID_PREFIX,
  type LocalNodeInfo,
  LocalNodeProvider,
  type LocalNodeProviderOptions,
  parseNodeList,
} from "./local-provider.js";
export { machineArch, nodeStart, realNodeProblem } from "./node-args.js";
