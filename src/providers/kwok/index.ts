export { KwokNodeProvider, type KwokNodeProviderOptions } from "./kwok-provider.js";
export {
  buildNode,
  KWOK_NODE_ANNOTATION,
  KWOK_NODE_TAINT,
  type KwokInstanceType,
  kwokInstanceTypes,
  NODEGROUP_LABEL,
  nodeResources,
  regionOfZone,
} from "./node-template.js";
