/** Queries read page after page with the SDK's paginator; AWS failures mapped as in every adapter. */
import { paginateQuery, type DynamoDBDocumentClient, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { awsCall } from './aws-errors';

/** The items of each page of `input`'s results, in order. */
export async function* queryPages(doc: DynamoDBDocumentClient, input: QueryCommandInput): AsyncGenerator<Array<Record<string, unknown>>> {
  const pages = paginateQuery({ client: doc }, input)[Symbol.asyncIterator]();
  for (;;) {
    const next = await awsCall(pages.next());
    if (next.done) return;
    yield next.value.Items ?? [];
  }
}

/** Every item `input` finds. */
export async function queryAll(doc: DynamoDBDocumentClient, input: QueryCommandInput): Promise<Array<Record<string, unknown>>> {
  const items: Array<Record<string, unknown>> = [];
  for await (const page of queryPages(doc, input)) items.push(...page);
  return items;
}
