export { EksNodeProvider, type EksNodeProviderOptions, SPEC_HASH_TAG, slotSpecHash } from "./eks-provider.js";
export { Elbv2TargetHealth, type Elbv2TargetHealthOptions } from "./target-health.js";
