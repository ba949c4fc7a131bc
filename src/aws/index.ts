/**
 * `tenkai/aws`: the AWS plane. Synthesizes the platform into a CDK cloud assembly and drives the
 * CDK toolkit over it (deploy, diff, destroy). Imports aws-cdk-lib, so it is a subpath of its own.
 */
export { type AwsPlaneApp, type AwsSynthOptions, buildAwsPlane, synthesizeAwsPlane } from "./synth.js";
export {
  type AwsDeployOptions,
  type AwsDeployResult,
  type AwsDiffOptions,
  type AwsDiffResult,
  type AwsPlaneEvent,
  type AwsToolkitOptions,
  deployAwsPlane,
  deployOrder,
  destroyAwsPlane,
  diffAwsPlane,
} from "./toolkit.js";
