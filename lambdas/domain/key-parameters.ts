/**
 * The stack's per-cluster keys live in SSM Parameter Store as SecureString parameters
 * (standard tier: no monthly charge), which CloudFormation cannot create: a custom resource
 * per parameter does (lambdas/functions/key-parameters.ts). What it does with each
 * CloudFormation request is decided here, from what exists, without any I/O.
 *
 * The rule: a key that exists is never replaced. Deployed nodes sign with it, operators
 * hold it. Before the parameters, the same keys were Secrets Manager secrets named like the
 * parameter without its leading "/": a parameter created where such a secret exists takes
 * its value, so the move keeps every key working.
 */

/** How a parameter's first value is made when nothing exists yet. */
export type KeyParameterKind =
  /** A random key: HMAC, admin and viewer keys. */
  | 'key'
  /** A random placeholder no token's digest matches (the Consul http token digest, stored by the operator later). */
  | 'placeholder';

export type KeyParameterRequest =
  | { readonly type: 'Create'; readonly name: string }
  | { readonly type: 'Update'; readonly name: string; readonly physicalId: string }
  | { readonly type: 'Delete'; readonly name: string; readonly physicalId: string };

/** What the handler does for a request: make sure a parameter exists, keep one as it is, or nothing. */
export type KeyParameterPlan =
  | { readonly action: 'ensure'; readonly name: string; readonly physicalId: string }
  | { readonly action: 'retain'; readonly name: string; readonly physicalId: string }
  | { readonly action: 'none'; readonly physicalId: string };

/**
 * The physical id of the custom resource is the parameter's name. A Delete never deletes
 * the parameter (it is retained, as a RETAIN removal policy would): a resource whose logical
 * id changed is created again (keeping the parameter) before the old one is deleted, with
 * the same name, so deleting would take the key of a live resource; and a key nodes sign
 * with is worth more than a free standard parameter left behind (README "Deploying to AWS"
 * says how to delete them). A Delete whose id is not the parameter's name (a Create that
 * failed before it made anything) has nothing to retain either.
 */
export function planKeyParameter(request: KeyParameterRequest): KeyParameterPlan {
  switch (request.type) {
    case 'Create':
    case 'Update':
      return { action: 'ensure', name: request.name, physicalId: request.name };
    case 'Delete':
      return request.physicalId === request.name
        ? { action: 'retain', name: request.name, physicalId: request.physicalId }
        : { action: 'none', physicalId: request.physicalId };
  }
}

/** The secret of the same cluster and kind from before the parameters (Secrets Manager). */
export type LegacySecret =
  | { readonly state: 'absent' }
  | { readonly state: 'present'; readonly value: string }
  /** Deleted with a recovery window: its key may still be on nodes. */
  | { readonly state: 'scheduledForDeletion' };

export type KeyParameterSource =
  | { readonly source: 'keep' }
  | { readonly source: 'copy'; readonly value: string }
  | { readonly source: 'generate' }
  | { readonly source: 'refuse'; readonly reason: string };

/** Standard-tier parameters hold at most 4 KB (Parameter Store's tiers, user guide). */
export const STANDARD_TIER_MAX_VALUE_BYTES = 4096;

/**
 * Where an ensured parameter's value comes from: an existing parameter is kept as it is
 * (never regenerated: not on an update, not on a retried create); else the legacy secret's
 * value is copied; else a new key is generated. A legacy secret that cannot be copied as it
 * is (scheduled for deletion, empty, over the standard tier's 4 KB) stops the deployment
 * with what to do, rather than silently replacing a key nodes may hold.
 */
export function keyParameterSource(name: string, parameterExists: boolean, legacySecretName: string, legacy: LegacySecret): KeyParameterSource {
  if (parameterExists) return { source: 'keep' };
  switch (legacy.state) {
    case 'absent':
      return { source: 'generate' };
    case 'scheduledForDeletion':
      return {
        source: 'refuse',
        reason: `Secrets Manager secret ${legacySecretName} (the key ${name} replaces) is scheduled for deletion: restore it (aws secretsmanager restore-secret --secret-id ${legacySecretName}) to keep its key, or delete it for good (aws secretsmanager delete-secret --force-delete-without-recovery --secret-id ${legacySecretName}) to get a new key, then deploy again`,
      };
    case 'present':
      if (legacy.value.trim() === '') return { source: 'refuse', reason: `Secrets Manager secret ${legacySecretName} is empty: put its key back or delete the secret, then deploy again` };
      if (new TextEncoder().encode(legacy.value).length > STANDARD_TIER_MAX_VALUE_BYTES) {
        return { source: 'refuse', reason: `Secrets Manager secret ${legacySecretName} is over ${STANDARD_TIER_MAX_VALUE_BYTES} bytes, more than a standard-tier parameter holds: shorten it (a key list "NEW OLD" of two keys is under 100 bytes), then deploy again` };
      }
      return { source: 'copy', value: legacy.value };
  }
}

/** Length of a generated key (alphanumeric, ~285 bits of entropy), as Secrets Manager generated them. */
export const CLUSTER_KEY_LENGTH = 48;
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const DIGITS = '0123456789';
const ALPHABET = UPPER + LOWER + DIGITS;

/**
 * A new key: CLUSTER_KEY_LENGTH characters drawn uniformly from [A-Za-z0-9] with at least one
 * of each class (Secrets Manager's requireEachIncludedType, which the keys had before).
 * `randomIndex(n)` is a uniform integer in [0, n) from a cryptographic source.
 */
export function generateClusterKey(randomIndex: (n: number) => number): string {
  for (;;) {
    let key = '';
    for (let i = 0; i < CLUSTER_KEY_LENGTH; i++) key += ALPHABET.charAt(randomIndex(ALPHABET.length));
    if (/[A-Z]/.test(key) && /[a-z]/.test(key) && /[0-9]/.test(key)) return key;
  }
}
