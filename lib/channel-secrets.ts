/**
 * Read access to a deployed channel's secret (channels/secret-location.ts), for the channel
 * worker and, for a Slack app's signing secret, the ingest function: exactly that parameter
 * or that secret, nothing else.
 */
import { Stack } from 'aws-cdk-lib';
import { Grant, type IGrantable } from 'aws-cdk-lib/aws-iam';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import type { SecretLocation } from '../channels/secret-location';

/**
 * An SSM parameter's ARN: arn:<partition>:ssm:<region>:<account>:parameter/<name without its
 * leading slash> ("/tocsin/x" and "tocsin-x" give parameter/tocsin/x and parameter/tocsin-x;
 * "/x" and "x" are one parameter to SSM).
 */
export function ssmParameterArn(scope: Construct, name: string): string {
  return Stack.of(scope).formatArn({ service: 'ssm', resource: 'parameter', resourceName: name.replace(/^\//, '') });
}

/**
 * A parameter: ssm:GetParameter on its ARN. Decryption needs no KMS grant: the AWS managed
 * key aws/ssm (a SecureString's default) lets every principal of the account decrypt through
 * Parameter Store (SSM user guide, "Restricting decryption of SecureString parameter
 * values"); a parameter under a customer managed key needs that key's policy to allow the
 * role (README "Deploying to AWS"). A secret: GetSecretValue and DescribeSecret on its
 * name's ARNs (the name and Secrets Manager's 6 random characters), as before.
 */
export function grantChannelSecretRead(scope: Construct, id: string, location: SecretLocation, grantee: IGrantable): Grant {
  if (location.store === 'secretsManager') return Secret.fromSecretNameV2(scope, id, location.name).grantRead(grantee);
  return Grant.addToPrincipal({ grantee, actions: ['ssm:GetParameter'], resourceArns: [ssmParameterArn(scope, location.name)] });
}
