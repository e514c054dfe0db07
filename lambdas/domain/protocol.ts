/**
 * The wire protocol between the agent shim, the CLI and the API. The shim bundles this
 * module: keep it constants only, importing nothing.
 */

/**
 * Cluster and scope names: they become secret names, env values and spool file name parts,
 * so keep them boring. schema/tocsin.schema.json repeats it (definitions.clusterName; a
 * unit test keeps the two equal).
 */
export const CLUSTER_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
