/** The generated many-tenant spec that bench/plan-scale.ts measures. */
import { readFileSync } from "node:fs";
import { join } from "node:path";

const here = new URL("..", import.meta.url).pathname;

/** A spec like the example's, with `n` tenants of two services (one routed) and a cron job. */
export function generateSpec(n: number): string {
  const example = readFileSync(join(here, "examples/platform.yaml"), "utf8");
  const head = example.slice(0, example.indexOf("  tenants:\n"));
  const body: string[] = ["  tenants:"];
  for (let i = 0; i < n; i++) {
    const t = `tenant-${String(i).padStart(5, "0")}`;
    body.push(
      `    - name: ${t}`,
      "      access:",
      `        - { role: "arn:aws:iam::123456789012:role/${t}-developers", level: edit }`,
      `      ciRole: arn:aws:iam::123456789012:role/${t}-ci`,
      "      services:",
      "        - name: api",
      "          image: api",
      '          tag: "1.4.2"',
      "          port: 8080",
      `          route: { host: api-${Math.floor(i / 50)}.example.com, path: /${t} }`,
      "          resources: { cpu: 250m, memory: 256Mi }",
      "        - name: worker",
      "          image: worker",
      '          tag: "1.4.2"',
      "          port: 9090",
      "          replicas: 1",
      "      cronJobs:",
      "        - { name: nightly, schedule: '0 3 * * *', image: jobs, tag: '1.0.0' }",
    );
  }
  return `${head.replace(/\n {2}fargate:\n(?: {4}.*\n)+/, "\n")}${body.join("\n")}\n`;
}
