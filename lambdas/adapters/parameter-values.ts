/** One SecureString parameter's decrypted value (SSM GetParameter WithDecryption, aws/ssm). */
import { GetParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { awsCall } from './aws-errors';

/** The parameter's value; undefined when there is no such parameter. Outages throw. */
export async function secureParameterValue(client: SSMClient, name: string): Promise<string | undefined> {
  try {
    const out = await awsCall(client.send(new GetParameterCommand({ Name: name, WithDecryption: true })));
    return out.Parameter?.Value;
  } catch (err) {
    if ((err as { name?: string } | null)?.name === 'ParameterNotFound') return undefined;
    throw err;
  }
}
