// The OpenAPI 3.1 document the center serves at GET /api/v1/openapi.json. Written by hand (the
// routes validate with zod); center-openapi test checks that every route the server registers is in it.
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: unknown) => ({ content: { 'application/json': { schema } } });
const ok = (description: string, schema: unknown = { type: 'object' }) => ({ 200: { description, ...json(schema) } });
const mtls = [{ mutualTLS: [] }];
const q = (name: string, schema: unknown, description: string) => ({ name, in: 'query', required: false, schema, description });

export function openApiDocument(version: string): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: { title: 'DaemonEye security center', version, description: 'Agents, regional centers and analysts authenticate with client certificates issued at enrolment (docs/center.md).' },
    components: {
      securitySchemes: { mutualTLS: { type: 'mutualTLS', description: 'certificate from `daemoneye enroll`; the role (agent, center, analyst) is in its URI SAN' } },
      schemas: {
        Error: { type: 'object', properties: { code: { type: 'string' }, reason: { type: 'string' }, message: { type: 'string' } } },
        Alert: {
          type: 'object', properties: {
            id: { type: 'integer' }, alert_uuid: { type: 'string' }, origin: { type: 'string', description: 'agent id that raised it' },
            origin_seq: { type: 'integer' }, center_id: { type: 'string' }, rule_id: { type: 'string' }, rule_name: { type: 'string' },
            severity: { enum: ['low', 'medium', 'high', 'critical'] }, host: { type: 'string' }, summary: { type: 'string' },
            first_seen: { type: 'string', format: 'date-time' }, received_at: { type: 'string', format: 'date-time' },
            status: { enum: ['open', 'acknowledged', 'resolved', 'false_positive'] }, assignee: { type: ['string', 'null'] },
            triage_version: { type: 'integer' }, triage_hlc: { type: ['string', 'null'] },
          },
        },
        Triage: {
          type: 'object', additionalProperties: false, properties: {
            status: { enum: ['open', 'acknowledged', 'resolved', 'false_positive'] }, assignee: { type: ['string', 'null'] },
            note: { type: 'string' }, expected_version: { type: 'integer' },
          },
        },
      },
    },
    paths: {
      '/api/v1/openapi.json': { get: { summary: 'this document', responses: ok('OpenAPI document') } },
      '/api/v1/enroll/ca': { get: { summary: "the center's CA certificate (check its SPKI SHA-256 against the token before trusting it)", responses: ok('CA') } },
      '/api/v1/enroll': { post: { summary: 'trade a single-use token and a CSR for a certificate', requestBody: json({ type: 'object', required: ['token', 'csr', 'name'] }), responses: { 201: { description: 'certificate issued' }, 401: { description: 'token refused', ...json(ref('Error')) } } } },
      '/api/v1/renew': { post: { summary: 'new certificate for a new key, same identity', security: mtls, responses: { 201: { description: 'certificate issued' } } } },
      '/api/v1/alerts': {
        get: {
          summary: 'alerts across the fleet, newest first', security: mtls,
          parameters: [
            q('status', { type: 'string' }, 'triage status'), q('severity', { type: 'string' }, 'this severity and above'), q('rule_id', { type: 'string' }, 'rule'),
            q('host', { type: 'string' }, 'host name'), q('origin', { type: 'string' }, 'agent id'), q('assignee', { type: 'string' }, 'assignee'),
            q('q', { type: 'string' }, 'case-insensitive text in summary, rule, host'), q('since', { type: 'string', format: 'date-time' }, 'first seen after'),
            q('before_id', { type: 'integer' }, 'page: ids below this'), q('limit', { type: 'integer', maximum: 5000 }, 'page size (200)'),
          ],
          responses: ok('alerts', { type: 'object', properties: { alerts: { type: 'array', items: ref('Alert') }, next_before_id: { type: ['integer', 'null'] } } }),
        },
        post: { summary: "an agent's alert batch (agent role); idempotent by (origin, sequence)", security: mtls, responses: { ...ok('stored'), 400: { description: 'malformed, nothing stored' }, 403: { description: 'identity claim mismatch, nothing stored' }, 413: { description: 'too large' } } },
      },
      '/api/v1/alerts/{ref}': {
        get: { summary: 'one alert with evidence and notes', security: mtls, parameters: [{ name: 'ref', in: 'path', required: true, schema: { type: 'string' } }], responses: ok('alert') },
        patch: { summary: 'triage: status, assignee, note', security: mtls, parameters: [{ name: 'ref', in: 'path', required: true, schema: { type: 'string' } }], requestBody: json(ref('Triage')), responses: { ...ok('alert', ref('Alert')), 409: { description: 'expected_version is stale' } } },
      },
      '/api/v1/heartbeat': { post: { summary: 'agent health, outbox depth, shed counts, audit checkpoint', security: mtls, responses: ok('latest object revision') } },
      '/api/v1/objects': { get: { summary: 'authored objects changed since a revision (pull)', security: mtls, parameters: [q('since', { type: 'integer' }, 'revision cursor'), q('limit', { type: 'integer' }, 'batch'), q('kind', { type: 'string' }, 'rule | indicator_set | config')], responses: ok('objects') } },
      '/api/v1/objects/changes': { get: { summary: 'long poll: answers when an authored object changes after `since` (or after `timeout` seconds, at most 55)', security: mtls, parameters: [q('since', { type: 'integer' }, 'revision'), q('timeout', { type: 'integer' }, 'seconds (25)')], responses: ok('the latest revision') } },
      '/api/v1/objects/{kind}/{id}': { put: { summary: 'create or replace a rule, indicator set or config (analyst, primary only)', security: mtls, responses: ok('new version') } },
      '/api/v1/queries': { post: { summary: 'ask every agent a read-only SQL question over its store (analyst)', security: mtls, requestBody: json({ type: 'object', required: ['sql'], properties: { sql: { type: 'string' }, timeout_s: { type: 'integer', minimum: 5, maximum: 3600 } } }), responses: { 201: { description: 'asked: query id, agents expected to answer, deadline' }, 400: { description: 'not a valid read-only query' } } } },
      '/api/v1/queries/{id}': { get: { summary: 'the merged answer: per-agent rows, running / complete / partial (deadline passed, agents missing)', security: mtls, responses: ok('answer') } },
      '/api/v1/queries/{id}/results': { post: { summary: "an agent's answer (agent role), once per agent", security: mtls, responses: ok('stored') } },
      '/api/v1/analytics/fleet-paths': {
        post: { summary: "an agent's executable paths for fleet rarity: SHA-256 prefixes of folded paths with days and runs in its window, at most 5,000; replaces its previous report (agent role)", security: mtls, requestBody: json({ type: 'object', required: ['agent_id', 'window_days', 'paths'], properties: { agent_id: { type: 'string' }, window_days: { type: 'integer' }, paths: { type: 'array', maxItems: 5000, items: { type: 'object', properties: { h: { type: 'string', pattern: '^[0-9a-f]{16}$' }, days: { type: 'integer' }, runs: { type: 'integer' } } } } } }), responses: { ...ok('stored: count and revision'), 400: { description: 'malformed, nothing stored' }, 403: { description: 'identity claim mismatch, nothing stored' } } },
        get: { summary: 'the fleet view: per path hash, on how many other hosts it ran in the last 14 days, most widespread first', security: mtls, parameters: [q('since', { type: 'integer' }, 'revision the caller has; unchanged: no paths sent'), q('limit', { type: 'integer', maximum: 20000 }, 'paths (10,000)')], responses: ok('revision, changed, hosts, window_days, truncated, floor, paths [{h, hosts}]') },
      },
      '/api/v1/events': {
        post: { summary: "an agent's detection-relevant events (process_exec, network_connections, process_security_events, dns_queries, tls_handshakes rows), at most max_events_per_request; idempotent by (agent, kind, source_id) (agent role)", security: mtls, requestBody: json({ type: 'object', required: ['agent_id', 'host', 'events'], properties: { agent_id: { type: 'string' }, host: { type: 'string' }, events: { type: 'array', items: { type: 'object', required: ['kind', 'source_id', 'time', 'body'], properties: { kind: { type: 'string' }, source_id: { type: 'integer' }, time: { type: 'integer', description: 'epoch ms' }, body: { type: 'object' } } } } } }), responses: { ...ok('stored, duplicates, expired'), 400: { description: 'malformed, nothing stored' }, 403: { description: 'identity claim mismatch, nothing stored' }, 429: { description: 'per-agent event rate exceeded, nothing stored; send later' } } },
        get: { summary: 'agent events, newest first (analyst)', security: mtls, parameters: [q('host', { type: 'string' }, 'host name'), q('agent', { type: 'string' }, 'agent id'), q('kind', { type: 'string' }, 'table: process_exec, dns_queries, ...'), q('since', { type: 'string', format: 'date-time' }, 'event time at or after'), q('before_id', { type: 'integer' }, 'page: ids below this'), q('limit', { type: 'integer', maximum: 5000 }, 'page size (500)')], responses: ok('events', { type: 'object', properties: { events: { type: 'array', items: { type: 'object' } }, next_before_id: { type: ['integer', 'null'] } } }) },
      },
      '/api/v1/hosts': { get: { summary: 'enrolled hosts and their health', security: mtls, responses: ok('hosts') } },
      '/api/v1/rules': { get: { summary: 'rules authored at the center', security: mtls, responses: ok('rules') } },
      '/api/v1/refusals': { get: { summary: 'refused requests (security log)', security: mtls, responses: ok('refusals') } },
      '/api/v1/identities/{id}/revoke': { post: { summary: "revoke every certificate of an identity", security: mtls, responses: ok('revoked') } },
      '/api/v1/federation/status': { get: { summary: 'federation peers, cursors, lag', security: mtls, responses: ok('status') } },
      '/api/v1/federation/conflicts': { get: { summary: 'triage conflicts parked for review (manual_review)', security: mtls, responses: ok('conflicts') } },
      '/api/v1/federation/conflicts/{id}/resolve': { post: { summary: 'resolve a conflict: keep local or remote', security: mtls, responses: ok('resolved') } },
      '/api/v1/federation/push': { post: { summary: "a regional center's batch of alerts, triage edits and host inventory (center role)", security: mtls, responses: ok('stored') } },
      '/api/v1/federation/sync': { post: { summary: 'run a sync round with the primary now (regional centers; 409 on a primary)', security: mtls, responses: ok('the round: pushed and pulled counts, ok or the error') } },
      '/api/v1/federation/queries': { get: { summary: 'fleet queries asked here since a cursor (regional centers relay them to their agents)', security: mtls, responses: ok('queries') } },
      '/api/v1/federation/triage': { get: { summary: 'triage edits since a cursor (regional centers pull them)', security: mtls, responses: ok('edits') } },
    },
  };
}
