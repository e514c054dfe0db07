/**
 * schema/tocsin.schema.json cannot import: the facts it repeats are checked against the
 * code that owns them.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLUSTER_NAME_PATTERN } from '../../lambdas/domain/protocol';
import { SEVERITY_RANK } from '../../lambdas/domain/types';

const schema = JSON.parse(readFileSync(join(__dirname, '..', '..', 'schema', 'tocsin.schema.json'), 'utf8')) as {
  definitions: { clusterName: { pattern: string }; severity: { enum: string[] } };
};

describe('tocsin.schema.json', () => {
  it('names clusters like the protocol', () => {
    expect(schema.definitions.clusterName.pattern).toBe(CLUSTER_NAME_PATTERN.source);
    expect(CLUSTER_NAME_PATTERN.flags).toBe('');
  });

  it('knows the severities the domain ranks', () => {
    expect([...schema.definitions.severity.enum].sort()).toEqual(Object.keys(SEVERITY_RANK).sort());
  });
});
