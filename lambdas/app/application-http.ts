/** The composition root's HTTP side (see application.ts): the API the ingest function and `npm start` serve. */
import type { Application } from './application';
import { createIngestHandler, type HttpRequest, type HttpResponse } from './ingest-http';
import { createSilenceApi, withSilenceRoutes } from './silence-api';

/** The HTTP API: shim ingest, Consul's http handler, silences. */
export function httpApi(app: Application): (req: HttpRequest) => Promise<HttpResponse> {
  const { ports } = app;
  return withSilenceRoutes(
    createSilenceApi({ adminKeys: ports.adminKeys, replay: ports.replay, silences: ports.silences, clock: ports.clock, logger: ports.logger }),
    createIngestHandler({
      keys: ports.clusterKeys,
      replay: ports.replay,
      sources: app.sources,
      logger: ports.logger,
      ...(ports.consulTokens ? { consulTokens: ports.consulTokens } : {}),
    }),
  );
}
