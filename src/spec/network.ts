/**
 * tenkai's subnet layout, computed once and shared by the checks and the AWS plane:
 * the VPC's first three quarters are private subnets (nodes and pods, one per AZ: pods take VPC
 * addresses under the VPC CNI, so they get the room), and the last quarter holds small public
 * subnets for the ALB and NAT gateways (each 1/32 of the VPC), then as many database subnets of the
 * same size (Aurora only: tenants' database egress is allowed to these and nowhere else).
 */
import { formatCidr, parseCidr } from "./cidr.js";

export interface SubnetPlan {
  readonly private: readonly string[];
  readonly public: readonly string[];
  readonly database: readonly string[];
  readonly privateMask: number;
  readonly publicMask: number;
}

export function subnetPlan(network: { readonly vpcCidr: string; readonly azs: number }): SubnetPlan {
  const vpc = parseCidr(network.vpcCidr);
  if (!vpc) throw new RangeError(`not a CIDR: ${network.vpcCidr}`);
  const privateMask = vpc.prefix + 2;
  const publicMask = vpc.prefix + 5;
  const privateSize = 2 ** (32 - privateMask);
  const publicSize = 2 ** (32 - publicMask);
  const lastQuarter = vpc.base + 3 * privateSize;
  const azs = Array.from({ length: network.azs }, (_, i) => i);
  return {
    private: azs.map((i) => formatCidr({ base: vpc.base + i * privateSize, prefix: privateMask })),
    public: azs.map((i) => formatCidr({ base: lastQuarter + i * publicSize, prefix: publicMask })),
    database: azs.map((i) =>
      formatCidr({ base: lastQuarter + (network.azs + i) * publicSize, prefix: publicMask }),
    ),
    privateMask,
    publicMask,
  };
}
