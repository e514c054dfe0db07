/**
 * The AWS SDK's request signer for embedded dynalite only (the `DynaliteRequestHandler`
 * transport: a worker thread's message channel, which reaches nothing but that dynalite).
 *
 * Why: SigV4 (canonical request, SHA-256 of the payload, four HMACs for the signing key,
 * one for the signature) was ~9% of `npm start`'s event loop under bench figure 6, for a
 * stand-in that checks only that the headers are there. This signer writes those headers in
 * SigV4's shape (algorithm, credential scope, signed headers, an X-Amz-Date) with the
 * signature field saying it is unsigned; dynalite accepts them as it accepts any signature.
 *
 * Never for a real endpoint: `dynamoClients` (dynamodb.ts) selects it only together with
 * the worker's request handler, which cannot send a request anywhere else; every client on
 * an HTTP endpoint (`--dynamodb-endpoint`, DynamoDB Local, AWS) keeps the SDK's SigV4 signer
 * (test/integration/dynalite-worker.test.ts checks both).
 */
import type { AwsCredentialIdentity, HttpRequest, HttpSigner, Identity } from '@smithy/types';

/** The signature field's value: says what it is to anyone reading dynalite's logs. */
export const UNSIGNED_SIGNATURE = 'unsigned-embedded-dynalite';

/** `20261202T061500Z`, SigV4's date format. */
const amzDate = (ms: number) => new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');

/** The auth scheme's signing properties name the service and the region (the client's `httpAuthSchemeProvider`). */
const text = (value: unknown, fallback: string) => (typeof value === 'string' && value !== '' ? value : fallback);

export class EmbeddedDynaliteSigner implements HttpSigner {
  async sign(request: HttpRequest, identity: Identity, signingProperties: Record<string, unknown>): Promise<HttpRequest> {
    const date = amzDate(Date.now());
    const scope = `${date.slice(0, 8)}/${text(signingProperties.region, 'local')}/${text(signingProperties.name, 'dynamodb')}/aws4_request`;
    request.headers['x-amz-date'] = date;
    request.headers.authorization = `AWS4-HMAC-SHA256 Credential=${(identity as Partial<AwsCredentialIdentity>).accessKeyId ?? 'embedded'}/${scope}, SignedHeaders=host;x-amz-date, Signature=${UNSIGNED_SIGNATURE}`;
    return request;
  }
}
