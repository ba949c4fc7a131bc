/** The CommonJS entry: definePlatform only (checked by `tenkai validate` when the spec loads). */
export declare function definePlatform<T extends { apiVersion: "tenkai.dev/v1alpha1"; kind: "Platform" }>(input: T): T;
