/**
 * The providers of the `aws` target (EKS): node groups through their one owner, the nodes stack
 * (`StackNodeProvider`, src/providers/stack), and the load balancer's view of moved pods
 * (`Elbv2TargetHealth`). There is no second way to make node groups (the EKS node group API).
 */
export { StackNodeProvider, type StackNodeProviderOptions } from "../stack/index.js";
export { Elbv2TargetHealth, type Elbv2TargetHealthOptions } from "./target-health.js";
