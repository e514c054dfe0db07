/**
 * `npm run schema`: writes the generated parts of schema/tocsin.schema.json: the channel
 * kinds' parts (`definitions.channel`, `properties.delivery`, `properties.local`) from the registry
 * (channels/index.ts), `definitions.template` (channels/templates.ts) and its place in
 * `definitions.rule`, and the matchers of the closed-set match fields (source, kind,
 * severity, status/to, from) from the alert vocabularies (lambdas/commons/match-schema.ts).
 * Unit tests fail while the file and the code disagree.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { channelSchemas } from '../channels';
import { TEMPLATE_SCHEMA } from '../channels/templates';
import { CONFIG_FILE } from '../lambdas/commons/deployment';
import { matchSchemas } from '../lambdas/commons/match-schema';

const file = join(__dirname, '..', CONFIG_FILE.schemaPath);
const schema = JSON.parse(readFileSync(file, 'utf8')) as { properties: Record<string, unknown>; definitions: Record<string, unknown> & { match: { properties: Record<string, unknown> } } };
const { channel, delivery, local } = channelSchemas();
schema.definitions.channel = channel;
schema.properties.delivery = delivery;
schema.properties.local = local;
schema.definitions.template = TEMPLATE_SCHEMA;
(schema.definitions.rule as { properties: Record<string, unknown> }).properties.template = { $ref: '#/definitions/template' };
const match = matchSchemas();
Object.assign(schema.definitions, match.definitions);
Object.assign(schema.definitions.match.properties, match.properties);
writeFileSync(file, `${JSON.stringify(schema, null, 2)}\n`);
process.stdout.write(`wrote ${file}\n`);
