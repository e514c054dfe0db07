/** The web page's list logic (ui/alert-list.ts): filtering, sorting, grouping by cluster and node. */
import { alertListView, groupAlerts, handledText, matchesFilter, NO_FILTER, sortAlerts, type AlertView } from '../../ui/alert-list';

const T0 = Date.parse('2026-12-02T10:00:00Z');
const at = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();

function alert(over: Partial<AlertView> & Pick<AlertView, 'id' | 'node' | 'severity'>): AlertView {
  return {
    subject: `check/${over.node}/${over.id}`,
    cluster: 'prod',
    state: 'firing',
    status: 'critical',
    title: `${over.severity.toUpperCase()}: ${over.id} on ${over.node}`,
    source: 'consul',
    kind: 'check',
    since: at(0),
    lastChange: at(0),
    channels: ['ops'],
    ...over,
  };
}

const ALERTS: AlertView[] = [
  alert({ id: 'disk', node: 'db-1', severity: 'warning', since: at(5), lastChange: at(30), check: 'disk', status: 'warning' }),
  alert({ id: 'web-a', node: 'web-1', severity: 'critical', since: at(10), lastChange: at(10), service: 'web' }),
  alert({ id: 'web-b', node: 'web-2', severity: 'critical', since: at(2), lastChange: at(20), service: 'web', state: 'acknowledged', ack: { by: 'ann', at: at(21), severity: 'critical', until: '2026-12-02T14:00:00.000Z' } }),
  alert({ id: 'ntp', node: 'web-1', severity: 'info', since: at(1), lastChange: at(1), state: 'silenced', silencedBy: 'silence abc' }),
  alert({ id: 'mem', node: 'db-1', severity: 'critical', since: at(40), lastChange: at(40), cluster: 'staging' }),
];
const ids = (list: AlertView[]) => list.map((a) => a.id);

describe('sorting', () => {
  it('urgency, descending: worst first, then the longest firing (the API order)', () => {
    expect(ids(sortAlerts(ALERTS, 'urgency', 'descending'))).toEqual(['web-b', 'web-a', 'mem', 'disk', 'ntp']);
  });
  it('urgency, ascending: the reverse', () => {
    expect(ids(sortAlerts(ALERTS, 'urgency', 'ascending'))).toEqual(['ntp', 'disk', 'mem', 'web-a', 'web-b']);
  });
  it('by a column, ties broken by urgency', () => {
    expect(ids(sortAlerts(ALERTS, 'lastChange', 'descending'))).toEqual(['mem', 'disk', 'web-b', 'web-a', 'ntp']);
    expect(ids(sortAlerts(ALERTS, 'node', 'ascending'))).toEqual(['mem', 'disk', 'web-a', 'ntp', 'web-b']);
    expect(ids(sortAlerts(ALERTS, 'state', 'descending'))).toEqual(['web-a', 'mem', 'disk', 'ntp', 'web-b']);
    expect(ids(sortAlerts(ALERTS, 'since', 'ascending'))).toEqual(['ntp', 'web-b', 'disk', 'web-a', 'mem']);
  });
  it('does not change its input', () => {
    const before = ids(ALERTS);
    sortAlerts(ALERTS, 'title', 'ascending');
    expect(ids(ALERTS)).toEqual(before);
  });
});

describe('filtering', () => {
  it('text: a case-insensitive part of title, subject, node, service, check or status', () => {
    expect(ALERTS.filter((a) => matchesFilter(a, { ...NO_FILTER, text: 'WEB' })).map((a) => a.id)).toEqual(['web-a', 'web-b', 'ntp']);
    expect(ALERTS.filter((a) => matchesFilter(a, { ...NO_FILTER, text: ' disk ' })).map((a) => a.id)).toEqual(['disk']);
    expect(ALERTS.filter((a) => matchesFilter(a, { ...NO_FILTER, text: 'warning' })).map((a) => a.id)).toEqual(['disk']);
  });
  it('severities and states: any of those checked; none checked is all', () => {
    expect(ALERTS.filter((a) => matchesFilter(a, { ...NO_FILTER, severities: ['critical'], states: ['firing', 'acknowledged'] })).map((a) => a.id)).toEqual(['web-a', 'web-b', 'mem']);
    expect(ALERTS.filter((a) => matchesFilter(a, NO_FILTER))).toHaveLength(ALERTS.length);
  });
});

describe('grouping', () => {
  it('by cluster, then node, in the order of each group first alert', () => {
    const groups = groupAlerts(sortAlerts(ALERTS, 'urgency', 'descending'));
    expect(groups.map((g) => [g.cluster, g.count, g.nodes.map((n) => [n.node, ids(n.alerts)])])).toEqual([
      ['prod', 4, [['web-2', ['web-b']], ['web-1', ['web-a', 'ntp']], ['db-1', ['disk']]]],
      ['staging', 1, [['db-1', ['mem']]]],
    ]);
  });
  it('the view: filtered, sorted, grouped, with counts', () => {
    const view = alertListView(ALERTS, { ...NO_FILTER, text: 'db-1' }, 'severity', 'ascending');
    expect(view.shown).toBe(2);
    expect(view.total).toBe(5);
    expect(view.groups.map((g) => g.cluster)).toEqual(['prod', 'staging']);
  });
});

it('says who acknowledged and until when, or what silences it', () => {
  expect(handledText(ALERTS[2]!)).toBe('acknowledged by ann until 2026-12-02 14:00:00 UTC');
  expect(handledText(ALERTS[3]!)).toBe('silenced by silence abc');
  expect(handledText(ALERTS[0]!)).toBe('firing');
});
