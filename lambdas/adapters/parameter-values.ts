/** One SecureString parameter's decrypted value (SSM GetParameter WithDecryption, aws/ssm). */
import { GetParameterCommand, type SSMClient, type SSMClientConfig } from '@aws-sdk/client-ssm';
import { awsCall } from './aws-errors';

/**
 * Every SSMClient of the stack's functions. Parameter Store's standard throughput is 40
 * transactions a second per account and region, shared by GetParameter(s) and PutParameter
 * with everything else in the account (API_GetParameter.html, "Parameter Store throughput"):
 * a burst of cold ingest containers (a mass outage reported by every node) or a deploy
 * making many parameters at once can be throttled. The SDK's standard retry (exponential
 * backoff with jitter, longer for throttling) over 8 attempts outlasts such a burst; the
 * rest is a 503 the shim retries. README "Deploying to AWS" says when to raise the quota.
 */
export const PARAMETER_STORE_CLIENT: SSMClientConfig = { maxAttempts: 8 };

/** The parameter's value; undefined when there is no such parameter. Outages throw. */
export function secureParameterValue(client: SSMClient, name: string): Promise<string | undefined> {
  return parameterValue(client, name, true);
}

/**
 * The parameter's value as stored (`decrypt` false: a SecureString's ciphertext, for asking
 * only whether it exists without reading the key); undefined when there is no such parameter.
 */
export async function parameterValue(client: SSMClient, name: string, decrypt: boolean): Promise<string | undefined> {
  try {
    const out = await awsCall(client.send(new GetParameterCommand({ Name: name, WithDecryption: decrypt })));
    return out.Parameter?.Value;
  } catch (err) {
    if ((err as { name?: string } | null)?.name === 'ParameterNotFound') return undefined;
    throw err;
  }
}
