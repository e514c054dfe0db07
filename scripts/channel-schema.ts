/**
 * `npm run schema`: writes the channel kinds' parts of schema/tocsin.schema.json
 * (`definitions.channel`, `properties.delivery`) from the registry (channels/index.ts).
 * A unit test fails while the file and the registry disagree.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { channelSchemas } from '../channels';
import { CONFIG_FILE } from '../lambdas/commons/deployment';

const file = join(__dirname, '..', CONFIG_FILE.schemaPath);
const schema = JSON.parse(readFileSync(file, 'utf8')) as { properties: Record<string, unknown>; definitions: Record<string, unknown> };
const { channel, delivery } = channelSchemas();
schema.definitions.channel = channel;
schema.properties.delivery = delivery;
writeFileSync(file, `${JSON.stringify(schema, null, 2)}\n`);
process.stdout.write(`wrote ${file}\n`);
