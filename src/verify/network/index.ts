/** `tenkai verify network`: the data path proven with real packets (datapath.ts), and its baseline. */
export { diffBaseline, lossesOf, parseBaseline, toBaseline } from "./baseline.js";
export { verifyNetwork } from "./datapath.js";
export type * from "./datapath-types.js";
