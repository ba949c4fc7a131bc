export { EksNodeProvider, type EksNodeProviderOptions, SPEC_HASH_TAG, slotSpecHash } from "./eks-provider.js";
