/**
 * Custom resource Lambda (KEY_PARAMETERS): creates one cluster key parameter, a SecureString
 * CloudFormation cannot create, copying the Secrets Manager secret it replaces when there is
 * one; a deleted resource retains its parameter. lib/cluster-secrets.ts wires it.
 */
import { randomInt } from 'node:crypto';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { Context } from 'aws-lambda';
import { putCloudFormationResponse } from '../adapters/cloudformation-response';
import { AwsKeyParameterStore } from '../adapters/key-parameter-store';
import { PARAMETER_STORE_CLIENT } from '../adapters/parameter-values';
import { keyParameterHandler, type CustomResourceRequest } from '../app/key-parameters';
import { jsonLogger } from '../commons/logger';

const store = new AwsKeyParameterStore(new SSMClient(PARAMETER_STORE_CLIENT), new SecretsManagerClient({}));
const logger = jsonLogger();

export async function handler(event: CustomResourceRequest, context: Pick<Context, 'logStreamName'>): Promise<void> {
  await keyParameterHandler({ store, respond: putCloudFormationResponse, randomIndex: (n) => randomInt(n), logger, logStream: context.logStreamName })(event);
}
