/**
 * The data stack: Aurora PostgreSQL Serverless v2 in the private subnets, reachable only from the
 * cluster security group (EKS puts it on managed nodes, their pods and Fargate pods), encrypted
 * with its own KMS key, with backups and deletion protection from the spec.
 *
 * The master password is managed by RDS (`ManageMasterUserPassword`): RDS keeps it in Secrets
 * Manager and rotates it itself, so no rotation Lambda is deployed. The RDS Data API is on so
 * tenkai can run the idempotent tenant SQL (tenant-database-sql.ts) without network access to
 * the VPC.
 */
import { CfnDeletionPolicy, RemovalPolicy, type StackProps } from "aws-cdk-lib";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as kms from "aws-cdk-lib/aws-kms";
import * as rds from "aws-cdk-lib/aws-rds";
import * as ssm from "aws-cdk-lib/aws-ssm";
import type { Construct } from "constructs";
import {
  AURORA_INSTANCE_ROLES,
  databaseClusterIdentifier,
  ssmParameterNames,
} from "../../shared/aws-names.js";
import type { Platform } from "../../spec/schema.js";
import { TenkaiStack } from "./shared.js";

export const DATABASE_PORT = 5432;
export const MASTER_USERNAME = "tenkai_admin";

export class DataStack extends TenkaiStack {
  readonly cluster: rds.CfnDBCluster;

  constructor(
    scope: Construct,
    id: string,
    platform: Platform,
    vpc: ec2.IVpc,
    clusterSecurityGroupId: string,
    props: StackProps,
  ) {
    super(scope, id, props);
    const db = platform.spec.database;
    if (!db) throw new Error("DataStack needs spec.database");
    const name = platform.metadata.name;
    const key = new kms.Key(this, "DatabaseKey", {
      description: `tenkai ${name}: Aurora storage, Performance Insights and master secret`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const subnets = new rds.CfnDBSubnetGroup(this, "Subnets", {
      dbSubnetGroupDescription: `tenkai ${name}: database subnets`,
      subnetIds: vpc.selectSubnets({ subnetType: ec2.SubnetType.PRIVATE_ISOLATED }).subnetIds,
    });
    const sg = new ec2.CfnSecurityGroup(this, "SecurityGroup", {
      groupDescription: `tenkai ${name}: Aurora, reachable from the EKS cluster security group only`,
      vpcId: vpc.vpcId,
      securityGroupIngress: [
        {
          ipProtocol: "tcp",
          fromPort: DATABASE_PORT,
          toPort: DATABASE_PORT,
          sourceSecurityGroupId: clusterSecurityGroupId,
          description: "PostgreSQL from EKS nodes and pods (cluster security group)",
        },
      ],
      // No egress: the database initiates no connections.
      securityGroupEgress: [{ ipProtocol: "-1", cidrIp: "127.0.0.1/32", description: "no egress" }],
    });
    const major = db.version.split(".")[0];
    this.cluster = new rds.CfnDBCluster(this, "Cluster", {
      dbClusterIdentifier: databaseClusterIdentifier(platform),
      engine: "aurora-postgresql",
      engineVersion: db.version,
      port: DATABASE_PORT,
      masterUsername: MASTER_USERNAME,
      manageMasterUserPassword: true,
      masterUserSecret: { kmsKeyId: key.keyArn },
      serverlessV2ScalingConfiguration: { minCapacity: db.minCapacity, maxCapacity: db.maxCapacity },
      storageEncrypted: true,
      kmsKeyId: key.keyArn,
      backupRetentionPeriod: db.backupRetentionDays,
      deletionProtection: db.deletionProtection,
      dbSubnetGroupName: subnets.ref,
      vpcSecurityGroupIds: [sg.attrGroupId],
      enableHttpEndpoint: true,
      enableIamDatabaseAuthentication: true,
      enableCloudwatchLogsExports: ["postgresql"],
      copyTagsToSnapshot: true,
      dbClusterParameterGroupName: new rds.CfnDBClusterParameterGroup(this, "Parameters", {
        description: `tenkai ${name}: TLS required`,
        family: `aurora-postgresql${major}`,
        parameters: { "rds.force_ssl": "1" },
      }).ref,
    });
    // Deleting the stack (or replacing the cluster) leaves a final snapshot.
    this.cluster.cfnOptions.deletionPolicy = CfnDeletionPolicy.SNAPSHOT;
    this.cluster.cfnOptions.updateReplacePolicy = CfnDeletionPolicy.SNAPSHOT;
    // A writer and a reader in another AZ: Serverless v2 fails over to the reader.
    for (const [i, role] of AURORA_INSTANCE_ROLES.entries()) {
      new rds.CfnDBInstance(this, role, {
        dbClusterIdentifier: this.cluster.ref,
        dbInstanceClass: "db.serverless",
        engine: "aurora-postgresql",
        promotionTier: i,
        publiclyAccessible: false,
        enablePerformanceInsights: true,
        performanceInsightsKmsKeyId: key.keyArn,
        autoMinorVersionUpgrade: true,
      });
    }
    new ssm.StringParameter(this, "EndpointParameter", {
      parameterName: ssmParameterNames.databaseEndpoint(platform),
      stringValue: this.cluster.attrEndpointAddress,
      description: "Aurora writer endpoint (tenant database secrets)",
    });
  }
}
