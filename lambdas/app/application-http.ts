/**
 * The composition root's HTTP side (see application.ts): the API the ingest function and
 * `npm start` serve. Each API beside ingest claims its paths here; everything else is
 * ingest's (the shim's route and Consul's http handler), which answers 404 for the rest.
 */
import type { Application } from './application';
import { heartbeatsOf } from './application-heartbeats';
import { createIngestHandler } from './ingest-http';
import type { HttpRequest, HttpResponse } from './http';
import { createAlertsApi, isAlertsRoute } from './alerts-api';
import { adminFailure } from './admin-auth';
import { createSilenceApi, isSilenceRoute } from './silence-api';
import { createWatchersApi, isWatcherRoute } from './watchers-api';
import { createSlackInteractions } from './slack-interactions';
import { ROUTES } from '../domain/protocol';
import { createWebPage, isWebPageRoute, type WebPageFiles, type WebPageOptions } from './web-page';

type Handler = (req: HttpRequest) => Promise<HttpResponse>;

/** An API beside ingest: the paths it serves, and its handler. */
interface Api {
  serves(path: string): boolean;
  handle: Handler;
}

/** The web page's files (web-page.ts), where they come from in this process; without it the page is not served. */
export interface WebPageSource extends WebPageOptions {
  files: () => WebPageFiles | Error;
}

export function httpApi(app: Application, webPage?: WebPageSource): Handler {
  const { ports } = app;
  const heartbeats = heartbeatsOf(app);
  const apis: Api[] = [
    {
      serves: isSilenceRoute,
      handle: createSilenceApi({ adminKeys: ports.adminKeys, replay: ports.replay, silences: ports.silences, clock: ports.clock, logger: ports.logger }),
    },
    {
      serves: isAlertsRoute,
      handle: alertsApi(app),
    },
    {
      serves: (path) => path === ROUTES.slackInteractions.path,
      handle: slackInteractions(app),
    },
    {
      serves: isWatcherRoute,
      handle: createWatchersApi({ adminKeys: ports.adminKeys, replay: ports.replay, heartbeats, ledger: ports.sweepLedger, clock: ports.clock, logger: ports.logger }),
    },
    ...(webPage ? [{ serves: (path: string) => isWebPageRoute(path, webPage), handle: createWebPage(webPage.files, webPage) }] : []),
  ];
  const ingest = createIngestHandler({
    keys: ports.clusterKeys,
    replay: ports.replay,
    sources: app.sources,
    logger: ports.logger,
    metrics: app.metrics,
    ...(ports.consulTokens ? { consulTokens: ports.consulTokens } : {}),
    signOfLife: (s) => heartbeats.signOfLife(s),
    ...(app.options.processingBudgetMs !== undefined ? { processingBudgetMs: app.options.processingBudgetMs } : {}),
  });
  return (req) => (apis.find((api) => api.serves(req.path))?.handle ?? ingest)(req);
}

/** The alerts API, or where no read model is kept (a port set without one), a 501 that says so. */
function alertsApi(app: Application): Handler {
  const { ports } = app;
  const alerts = ports.alerts;
  if (!alerts) return async () => adminFailure(501, 'not_kept', 'this deployment keeps no read model of alerts');
  return createAlertsApi({
    adminKeys: ports.adminKeys,
    ...(ports.viewerKeys ? { viewerKeys: ports.viewerKeys } : {}),
    replay: ports.replay,
    clock: ports.clock,
    alerts,
    subjects: ports.subjects,
    publisher: () => app.dispatcher,
    logger: ports.logger,
    ...(ports.slackApps ? { slack: ports.slackApps } : {}),
  });
}

/** Slack's interactivity endpoint, or where no app channel has a signing secret (or no read model is kept), a 404 that says so. */
function slackInteractions(app: Application): Handler {
  const { ports } = app;
  const { slackApps, alerts } = ports;
  if (!slackApps || !alerts) {
    return async () => adminFailure(404, 'not_configured', 'Slack actions are off: no Slack app channel has a signing secret (README "Slack actions")');
  }
  return createSlackInteractions({
    slack: slackApps,
    alerts,
    subjects: ports.subjects,
    publisher: () => app.dispatcher,
    silences: ports.silences,
    replay: ports.replay,
    clock: ports.clock,
    logger: ports.logger,
  });
}
