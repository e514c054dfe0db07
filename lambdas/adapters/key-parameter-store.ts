/**
 * The custom resource's view of Parameter Store and of the secrets the parameters replace:
 * SSM (standard-tier SecureString, aws/ssm) and Secrets Manager over AWS SDK v3. Values pass
 * through here and nowhere else: never logged, never returned to CloudFormation.
 */
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ParameterTier, ParameterType, PutParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { awsCall } from './aws-errors';
import { parameterValue } from './parameter-values';
import type { KeyParameterStore } from '../app/key-parameters';
import type { LegacySecret } from '../domain/key-parameters';

const nameOf = (err: unknown): string | undefined => (err as { name?: string } | null)?.name;

export class AwsKeyParameterStore implements KeyParameterStore {
  constructor(
    private readonly ssm: SSMClient,
    private readonly secrets: SecretsManagerClient,
  ) {}

  async parameterExists(name: string): Promise<boolean> {
    // Without decryption: only whether it exists is asked, and its value never read.
    return (await parameterValue(this.ssm, name, false)) !== undefined;
  }

  async legacySecret(secretName: string): Promise<LegacySecret> {
    try {
      const out = await awsCall(this.secrets.send(new GetSecretValueCommand({ SecretId: secretName })));
      return { state: 'present', value: out.SecretString ?? '' };
    } catch (err) {
      if (nameOf(err) === 'ResourceNotFoundException') return { state: 'absent' };
      // Secrets Manager answers a secret pending deletion with InvalidRequestException.
      if (nameOf(err) === 'InvalidRequestException' && /deleted|deletion/i.test((err as Error).message)) return { state: 'scheduledForDeletion' };
      throw err;
    }
  }

  async create(name: string, value: string, description: string): Promise<void> {
    await awsCall(
      this.ssm.send(
        new PutParameterCommand({ Name: name, Value: value, Type: ParameterType.SECURE_STRING, Tier: ParameterTier.STANDARD, Overwrite: false, Description: description }),
      ),
    );
  }
}
