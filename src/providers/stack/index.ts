export { StackNodeProvider, type StackNodeProviderOptions } from "./stack-provider.js";
