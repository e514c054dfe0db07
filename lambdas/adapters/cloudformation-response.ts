/**
 * Answers a CloudFormation custom resource request: a PUT of the response JSON to the
 * request's pre-signed S3 ResponseURL, with no Content-Type (the URL was signed without
 * one; the cfn-response module sends it empty).
 */
import type { CustomResourceResponse } from '../app/key-parameters';

export async function putCloudFormationResponse(url: string, response: CustomResourceResponse): Promise<void> {
  // A byte body: fetch adds no Content-Type for it.
  const body = new TextEncoder().encode(JSON.stringify(response));
  const res = await fetch(url, { method: 'PUT', body });
  if (!res.ok) throw new Error(`CloudFormation response PUT answered HTTP ${res.status}`);
}
