/**
 * The AWS SDK's Node version notice, quieted for `npm start` (and `npm run bench`) on
 * Node 20. Since January 2026 the SDK's client constructor warns on Node < 22 that SDK
 * versions published after the first week of January 2027 will require Node 22. The SDK
 * installed here declares and supports Node >= 20 (its `engines`; CI runs on Node 20), so
 * on every start the notice would only repeat what README "Quiet starts" says once. It is
 * turned off the way the SDK documents: AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true,
 * which silences that one notice and no other warning. An operator's own setting of the
 * variable is left alone, and other Node versions are left alone.
 *
 * Import first: the SDK reads the variable when the first client is created.
 */
export const SDK_NODE_WARNING_ENV = 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED';

/** The Node major version whose notice tocsin quiets: the oldest one it supports (package.json engines). */
export const QUIETED_NODE_MAJOR = 20;

/** Sets the variable when it is unset and node is QUIETED_NODE_MAJOR; true when it did. */
export function quietAwsSdkNodeWarning(env: NodeJS.ProcessEnv = process.env, nodeVersion: string = process.version): boolean {
  if (env[SDK_NODE_WARNING_ENV] !== undefined) return false;
  if (Number(/^v(\d+)\./.exec(nodeVersion)?.[1]) !== QUIETED_NODE_MAJOR) return false;
  env[SDK_NODE_WARNING_ENV] = 'true';
  return true;
}

quietAwsSdkNodeWarning();
