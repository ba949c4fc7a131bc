// The same kind of platform as platform.yaml, written in TypeScript: `tenkai plan examples/platform.ts`.
import { definePlatform } from "../src/index.js";

const tenants = ["alpha", "beta"].map((name) => ({
  name,
  access: [{ role: `arn:aws:iam::123456789012:role/${name}-developers`, level: "edit" as const }],
  services: [
    {
      name: "api",
      image: "api",
      tag: "1.0.0",
      port: 8080,
      route: { host: `${name}.example.com`, path: "/" },
    },
  ],
}));

export default definePlatform({
  apiVersion: "tenkai.dev/v1alpha1",
  kind: "Platform",
  metadata: { name: "typed" },
  spec: {
    aws: { account: "123456789012", region: "us-east-1" },
    cluster: { version: "1.35", adminRoles: ["arn:aws:iam::123456789012:role/platform-admin"] },
    nodeGroups: [{ name: "general", instanceTypes: ["m7i.large"], min: 2, max: 6 }],
    tenants,
  },
});
