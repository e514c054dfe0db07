/**
 * AWS list prices used by the cost model (figure 8), us-east-1, on-demand, in USD. One place:
 * every price with its unit, the public page it was read from and that page's date (the
 * date of the stored copy the search found, or the date the page states), and its free tier
 * (`freeTier`: units per month; `freeTierTerm`: 'always' for AWS's always-free tier, which
 * does not expire, '12 months' for new accounts' first year only, 'none').
 *
 * Free tiers checked 2026-12-02 (the figure's target row applies the always-free ones only):
 * Lambda 1M requests + 400,000 GB-s (docs.aws.amazon.com whitepaper "How AWS Pricing Works",
 * Lambda; "do not expire after the initial 12-month AWS Free Tier period", unanswered.io
 * Lambda pricing guide); SQS 1M requests "indefinitely, not just for the first year"
 * (unanswered.io SQS guide); SNS 1M publishes always free (awsglossary.org and
 * costpulse.cloud "Always Free" tables), 1,000 emails (factualminds.com 2026-06-13);
 * CloudWatch 10 custom metrics, 10 alarm metrics, 3 dashboards, 5 GB of logs data
 * (aws.amazon.com/cloudwatch/pricing, stored copy, undated; "always applied", vantage.sh);
 * X-Ray 100,000 traces recorded and KMS 20,000 requests (their aws.amazon.com pricing pages,
 * stored copies); API Gateway's 1M HTTP API calls for 12 months only (aws.amazon.com/api-gateway/pricing);
 * none for DynamoDB on-demand request units, Secrets Manager or a customer managed key.
 * Parameter Store's standard tier has no charge at all (not a free tier: the price is 0).
 *
 * Read 2026-12-02 from the sources named per price. Where only a third-party page stated a
 * number, it says so; check them against https://aws.amazon.com/<service>/pricing/ before
 * relying on the figure.
 */
export const REGION = 'us-east-1';
/** AWS's pricing month (the pricing pages and the calculator use 730 hours). */
export const HOURS_PER_MONTH = 730;
export const SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600;
export const DAYS_PER_MONTH = HOURS_PER_MONTH / 24;

export type FreeTierTerm = 'always' | '12 months' | 'none';

export interface Price {
  /** USD per `per` units. */
  readonly usd: number;
  readonly per: number;
  /** What one unit is. */
  readonly unit: string;
  /** Units per month the AWS free tier covers (applied only when the model is asked to). */
  readonly freeTier: number;
  /** 'always': AWS's always-free tier (does not expire); '12 months': new accounts' first year only. */
  readonly freeTierTerm: FreeTierTerm;
  /** Another price whose free units this one uses up too (CloudWatch's one 5 GB of logs data). */
  readonly freeTierSharedWith?: string;
  readonly freeTierNote: string;
  /** Where the price was read, and the date of that page. */
  readonly source: string;
}

export const PRICES = {
  apiGatewayHttpRequest: {
    usd: 1.0, per: 1e6, unit: 'HTTP API request (each 512 KB of a request counts as one)',
    freeTier: 1e6, freeTierNote: '1M calls/month, new accounts, first 12 months only',
    freeTierTerm: '12 months',
    source: 'aws.amazon.com/api-gateway/pricing (free tier) and docs.aws.amazon.com whitepaper "Best Practices for Designing Amazon API Gateway Private APIs", Cost optimization, table 4 (first 300M: $1.00/M; "metered in 512 KB increments"); stored copies, undated, read 2026-12-02',
  },
  lambdaRequest: {
    usd: 0.2, per: 1e6, unit: 'Lambda invocation',
    freeTier: 1e6, freeTierNote: '1M requests/month, permanent',
    freeTierTerm: 'always',
    source: 'aws.amazon.com/lambda/pricing (web.archive.org copy of 2026-06-18: "rounded up to the nearest 1 ms"); rate $0.20/M from a third-party table of it (git.mcrn.ar lambda cost notes), read 2026-12-02',
  },
  lambdaArmGbSecond: {
    usd: 0.0000133334, per: 1, unit: 'GB-second, arm64 (first 7.5 billion GB-s/month)',
    freeTier: 400_000, freeTierNote: '400,000 GB-s/month, permanent',
    freeTierTerm: 'always',
    source: 'cloudchipr.com/blog/aws-lambda-pricing (2024, "ARM Pricing: First 7.5 Billion GB-seconds per month: $0.0000133334"), matching the archived aws.amazon.com/lambda/pricing of 2026-06-18; read 2026-12-02',
  },
  dynamoWriteRequestUnit: {
    usd: 0.625, per: 1e6, unit: 'on-demand write request unit (1 KB)',
    freeTier: 0, freeTierNote: 'none for on-demand request units (the 25 WCU/RCU free tier is provisioned capacity)',
    freeTierTerm: 'none',
    source: 'airbyte.com/data-engineering-resources/dynamodb-pricing ("$0.625 per million write request units", US East; the price since the on-demand cut of 2024-11-01), read 2026-12-02. A 2025 third-party page (infratally.com) quotes $0.25/M for reads: not the current list price',
  },
  dynamoReadRequestUnit: {
    usd: 0.125, per: 1e6, unit: 'on-demand read request unit (4 KB strongly consistent, 8 KB eventually consistent)',
    freeTier: 0, freeTierNote: 'none for on-demand request units',
    freeTierTerm: 'none',
    source: 'airbyte.com/data-engineering-resources/dynamodb-pricing ("$0.125 per million read request units"), read 2026-12-02',
  },
  snsPublish: {
    usd: 0.5, per: 1e6, unit: 'SNS publish request (each 64 KB chunk counts as one)',
    freeTier: 1e6, freeTierNote: '1M requests/month, permanent',
    freeTierTerm: 'always',
    source: 'factualminds.com "Amazon SNS Pricing" (2026-06-13: standard topic publish $0.50/M, email $2/100K); read 2026-12-02',
  },
  snsEmailDelivery: {
    usd: 2.0, per: 1e5, unit: 'SNS email notification',
    freeTier: 1000, freeTierNote: '1,000 emails/month, permanent',
    freeTierTerm: 'always',
    source: 'factualminds.com "Amazon SNS Pricing" (2026-06-13); read 2026-12-02',
  },
  sqsRequest: {
    usd: 0.4, per: 1e6, unit: 'SQS standard request (each 64 KB chunk counts as one; empty receives count)',
    freeTier: 1e6, freeTierNote: '1M requests/month, permanent',
    freeTierTerm: 'always',
    source: 'cloudburn.io/blog/amazon-sqs-pricing (2026-03-14, us-east-1: standard $0.40/M, 1M free); unanswered.io SQS guide (empty receives billed, Lambda triggers long-poll idle queues); read 2026-12-02',
  },
  logsIngestedGb: {
    usd: 0.5, per: 1, unit: 'GB of CloudWatch Logs ingested (standard class)',
    freeTier: 5, freeTierNote: '5 GB/month (ingestion, archive storage and Logs Insights scans together), permanent',
    freeTierTerm: 'always',
    source: 'factualminds.com CloudWatch pricing (2026-06-13: "Logs ingestion at $0.50/GB", dashboards $3); free tier from aws.amazon.com/cloudwatch/pricing (stored copy, undated); read 2026-12-02',
  },
  logsStoredGbMonth: {
    usd: 0.03, per: 1, unit: 'GB-month of CloudWatch Logs archive',
    freeTier: 5, freeTierNote: 'shares the 5 GB above',
    freeTierSharedWith: 'logsIngestedGb',
    freeTierTerm: 'always',
    source: 'aws.amazon.com/cloudwatch/pricing (stored copy, undated); $0.03/GB-month is the us-east-1 archive rate; read 2026-12-02 (third-party pages only: not confirmed on the stored page)',
  },
  customMetric: {
    usd: 0.3, per: 1, unit: 'custom metric-month (each name + dimension values; EMF included)',
    freeTier: 10, freeTierNote: '10 metrics/month, permanent',
    freeTierTerm: 'always',
    source: 'signoz.io/guides/cloudwatch-pricing (2026-02-15: "$0.30/month for the first 10,000", each unique name + dimensions); read 2026-12-02',
  },
  alarm: {
    usd: 0.1, per: 1, unit: 'standard-resolution alarm-month',
    freeTier: 10, freeTierNote: '10 alarm metrics/month, permanent',
    freeTierTerm: 'always',
    source: 'aws.amazon.com/cloudwatch/pricing (free tier, stored copy); $0.10 per standard alarm metric from factualminds.com (2026-06-13); read 2026-12-02',
  },
  dashboard: {
    usd: 3.0, per: 1, unit: 'dashboard-month',
    freeTier: 3, freeTierNote: '3 dashboards of up to 50 metrics, permanent',
    freeTierTerm: 'always',
    source: 'factualminds.com CloudWatch pricing (2026-06-13: "dashboards at $3 each"); free tier aws.amazon.com/cloudwatch/pricing; read 2026-12-02',
  },
  xrayTraceRecorded: {
    usd: 5.0, per: 1e6, unit: 'X-Ray trace recorded',
    freeTier: 1e5, freeTierNote: '100,000 traces/month, permanent',
    freeTierTerm: 'always',
    source: 'aws.amazon.com/de/xray/pricing and /cn/xray/pricing (stored copies, undated: $5.00 per million recorded, first 100,000 free); read 2026-12-02',
  },
  secret: {
    usd: 0.4, per: 1, unit: 'Secrets Manager secret-month',
    freeTier: 0, freeTierNote: 'none (a 30-day trial per new secret only)',
    freeTierTerm: 'none',
    source: 'hivebook.wiki AWS Secrets Manager ("$0.40 per secret per month + $0.05 per 10k API calls"), undated; read 2026-12-02 (aws.amazon.com/secrets-manager/pricing not in the stored corpus)',
  },
  secretsApiCall: {
    usd: 0.05, per: 1e4, unit: 'Secrets Manager API call',
    freeTier: 0, freeTierNote: 'none',
    freeTierTerm: 'none',
    source: 'hivebook.wiki AWS Secrets Manager, undated; read 2026-12-02',
  },
  ssmStandardParameter: {
    usd: 0, per: 1, unit: 'SSM Parameter Store standard parameter-month (SecureString, aws/ssm)',
    freeTier: 0, freeTierNote: 'no charge: standard parameters cost nothing (up to 10,000 per account and Region, 4 KB each)',
    freeTierTerm: 'none',
    source: 'docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html (stored copy, undated: Standard tier "Cost: No additional charge", 10,000 parameters, 4 KB values; advanced "Charges apply"); read 2026-12-02',
  },
  ssmStandardApiCall: {
    usd: 0, per: 1e4, unit: 'SSM GetParameter call at the standard throughput',
    freeTier: 0, freeTierNote: 'no charge at the default (standard) throughput; higher throughput is billed, and is not enabled by tocsin',
    freeTierTerm: 'none',
    source: 'docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameter.html (stored copy, undated: "standard throughput quota ... can use this default setting without additional cost"); decryption with aws/ssm is a KMS request (kmsRequest); read 2026-12-02',
  },
  kmsKey: {
    usd: 1.0, per: 1, unit: 'customer managed KMS key-month (+$1 per rotated backing key)',
    freeTier: 0, freeTierNote: 'none',
    freeTierTerm: 'none',
    source: 'aws.amazon.com/kms/pricing (stored copy: "$1/month ... each newly generated backing key costs an additional $1/month"); read 2026-12-02',
  },
  kmsRequest: {
    usd: 0.03, per: 1e4, unit: 'KMS request (AWS managed keys included)',
    freeTier: 20_000, freeTierNote: '20,000 requests/month, permanent',
    freeTierTerm: 'always',
    source: 'aws.amazon.com/kms/pricing (stored copy: "charged on any API request made to AWS-managed keys", 20,000 free); $0.03/10,000 from wring.co (2026-03-15); read 2026-12-02. A GetParameter WithDecryption of a SecureString is one Decrypt of aws/ssm (repost.aws "Parameter Store - charges for decryption": "you will only pay for usage of KMS"), read 2026-12-02',
  },
} as const satisfies Record<string, Price>;

export type PriceKey = keyof typeof PRICES;
