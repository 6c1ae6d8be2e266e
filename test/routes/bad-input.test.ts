/**
 * The bad input catalogue (issue #4, part 4): malformed requests of every kind (wrong types,
 * missing fields, unknown task, invalid triggers of every type, 1 MB bodies, ids with slashes,
 * unicode and control characters, SQL fragments, `__proto__`/`constructor` keys, negative and huge
 * numbers, extra fields, broken JSON, bodies that are not JSON, bodies sent to actions that take
 * none, and state-changing requests a browser sends for another origin's page). Each must get a
 * 4xx whose message names the problem, and the scheduler's tables must be exactly as before (row
 * counts and a full dump of both tables). The app has no guard (`insecure: true`): the cross-site
 * check holds whatever guard the host uses, none included.
 */
import type { InjectOptions } from 'fastify'
import t from 'tap'
import { cron, dumpTables, routesApp } from './fixtures/app.js'

interface Case {
  what: string
  request: InjectOptions
  status: number
  code: string
  message: RegExp
}

const interval = { type: 'interval', hours: 1 }
const job = (fields: Record<string, unknown>): Record<string, unknown> => ({ id: 'new-job', task: 'echo', trigger: interval, ...fields })
const add = (body: unknown): InjectOptions => ({ method: 'POST', url: '/scheduler/jobs', payload: body as Record<string, unknown> })
const addRaw = (payload: string, contentType = 'application/json'): InjectOptions => ({ method: 'POST', url: '/scheduler/jobs', payload, headers: { 'content-type': contentType } })
const patch = (body: unknown, id = 'existing'): InjectOptions => ({ method: 'PATCH', url: `/scheduler/jobs/${id}`, payload: body as Record<string, unknown> })
const get = (url: string): InjectOptions => ({ method: 'GET', url })
const trigger = (value: unknown): InjectOptions => add(job({ trigger: value }))

const VALIDATION = 'FST_ERR_VALIDATION'
const TRIGGER = 'FST_SCHEDULER_INVALID_TRIGGER'
const INVALID_JOB = 'FST_SCHEDULER_INVALID_JOB'
const BAD_JSON = 'FST_ERR_CTP_INVALID_JSON_BODY'
const MEGABYTE = 'x'.repeat(1024 * 1024)
const CROSS_SITE = 'FST_SCHEDULER_CROSS_SITE'
const MEDIA_TYPE = 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
/** A request as a browser sends it for a page of another origin (inject's own origin is http://localhost). */
const fromPage = (method: string, url: string, headers: Record<string, string>, payload?: string): InjectOptions =>
  ({ method: method as InjectOptions['method'], url, headers, ...(payload === undefined ? {} : { payload }) })
const EVIL = 'https://evil.example'
/** A body of a given content type sent to an existing job's action. */
const typed = (method: string, url: string, contentType: string, payload: string): InjectOptions =>
  ({ method: method as InjectOptions['method'], url, payload, headers: { 'content-type': contentType } })

const CASES: Case[] = [
  // wrong types
  { what: 'id is a number', request: add(job({ id: 42 })), status: 400, code: VALIDATION, message: /body\.id: must be string/ },
  { what: 'task is an array', request: add(job({ task: ['echo'] })), status: 400, code: VALIDATION, message: /body\.task: must be string/ },
  { what: 'trigger is a string', request: add(job({ trigger: '0 9 * * *' })), status: 400, code: VALIDATION, message: /body\.trigger: must be object/ },
  { what: 'args is an object', request: add(job({ args: { region: 'eu' } })), status: 400, code: VALIDATION, message: /body\.args: must be array/ },
  { what: 'maxInstances is a string', request: add(job({ maxInstances: '2' })), status: 400, code: VALIDATION, message: /body\.maxInstances: must be integer/ },
  { what: 'paused is "yes"', request: add(job({ paused: 'yes' })), status: 400, code: VALIDATION, message: /body\.paused: must be boolean/ },
  { what: 'misfireGraceTime is a string', request: add(job({ misfireGraceTime: 'soon' })), status: 400, code: VALIDATION, message: /body\.misfireGraceTime: must be integer or must be null/ },
  { what: 'the body is an array', request: add([job({})]), status: 400, code: VALIDATION, message: /^body: must be object$/ },
  { what: 'the body is a JSON string', request: addRaw('"new-job"'), status: 400, code: VALIDATION, message: /^body: must be object$/ },
  { what: 'the body is plain text', request: addRaw('id=new-job', 'text/plain'), status: 415, code: MEDIA_TYPE, message: /unsupported media type 'text\/plain': the admin API takes JSON bodies only; send content-type: application\/json/ },
  { what: 'the body is XML', request: addRaw('<job id="new-job"/>', 'application/xml'), status: 415, code: MEDIA_TYPE, message: /unsupported media type 'application\/xml'/ },
  { what: 'the body is broken JSON', request: addRaw('{"id": "new-job", "task": '), status: 400, code: BAD_JSON, message: /request body: is not valid JSON/ },
  // missing fields
  { what: 'no body', request: { method: 'POST', url: '/scheduler/jobs' }, status: 400, code: VALIDATION, message: /^body: must be object$/ },
  { what: 'an empty object', request: add({}), status: 400, code: VALIDATION, message: /body\.id: is required; body\.task: is required; body\.trigger: is required/ },
  { what: 'no trigger', request: add({ id: 'new-job', task: 'echo' }), status: 400, code: VALIDATION, message: /body\.trigger: is required/ },
  { what: 'a trigger without type', request: trigger({ expression: '* * * * *' }), status: 400, code: VALIDATION, message: /body\.trigger\.type: is required/ },
  { what: 'a preview without trigger', request: { method: 'POST', url: '/scheduler/fire-times', payload: {} }, status: 400, code: VALIDATION, message: /body\.trigger: is required/ },
  // unknown task
  { what: 'an unknown task', request: add(job({ task: 'reports.weekly' })), status: 400, code: 'FST_SCHEDULER_TASK_NOT_REGISTERED', message: /task 'reports\.weekly' is not registered/ },
  { what: 'changing to an unknown task', request: patch({ task: 'reports.weekly' }), status: 400, code: 'FST_SCHEDULER_TASK_NOT_REGISTERED', message: /task 'reports\.weekly' is not registered/ },
  // invalid triggers of every kind
  { what: 'an unknown trigger type', request: trigger({ type: 'weekly' }), status: 400, code: VALIDATION, message: /body\.trigger\.type: must be one of "cron", "interval", "date", "and", "or"/ },
  { what: 'cron: empty expression', request: trigger({ type: 'cron', expression: '' }), status: 400, code: TRIGGER, message: /invalid trigger: expression/ },
  { what: 'cron: malformed expression', request: trigger({ type: 'cron', expression: 'every day at nine' }), status: 400, code: TRIGGER, message: /invalid trigger: expression/ },
  { what: 'cron: hour out of range', request: trigger({ type: 'cron', expression: '0 25 * * *' }), status: 400, code: TRIGGER, message: /invalid trigger: expression/ },
  { what: 'cron: that can never fire', request: trigger({ type: 'cron', expression: '0 0 30 2 *' }), status: 400, code: TRIGGER, message: /invalid trigger: expression/ },
  { what: 'cron fields: hour 24', request: trigger({ type: 'cron', fields: { hour: 24 } }), status: 400, code: TRIGGER, message: /invalid trigger: fields\.hour: .*24/ },
  { what: 'cron fields: numeric dayOfWeek', request: trigger({ type: 'cron', fields: { dayOfWeek: 1 } }), status: 400, code: TRIGGER, message: /invalid trigger: fields\.dayOfWeek/ },
  { what: 'cron: unknown timezone', request: trigger({ type: 'cron', expression: '0 9 * * *', timezone: 'Mars/Olympus_Mons' }), status: 400, code: TRIGGER, message: /invalid trigger: timezone.*Mars\/Olympus_Mons/ },
  { what: 'interval: zero', request: trigger({ type: 'interval', seconds: 0 }), status: 400, code: TRIGGER, message: /invalid trigger: .*(seconds|period|interval)/ },
  { what: 'interval: negative', request: trigger({ type: 'interval', hours: -1 }), status: 400, code: TRIGGER, message: /invalid trigger: hours/ },
  { what: 'interval: no units', request: trigger({ type: 'interval' }), status: 400, code: TRIGGER, message: /invalid trigger: / },
  { what: 'interval: startDate after endDate', request: trigger({ type: 'interval', hours: 1, startDate: '2026-12-01 00:00:00', endDate: '2026-11-01 00:00:00' }), status: 400, code: TRIGGER, message: /invalid trigger: .*startDate/ },
  { what: 'date: unparseable runDate', request: trigger({ type: 'date', runDate: 'tomorrow at noon' }), status: 400, code: TRIGGER, message: /invalid trigger: runDate/ },
  { what: 'date: no runDate', request: trigger({ type: 'date' }), status: 400, code: TRIGGER, message: /invalid trigger: runDate/ },
  { what: 'and: no members', request: trigger({ type: 'and', triggers: [] }), status: 400, code: TRIGGER, message: /invalid trigger: triggers/ },
  { what: 'or: a bad member', request: trigger({ type: 'or', triggers: [cron('0 9 * * *'), { type: 'cron', expression: '61 * * * *' }] }), status: 400, code: TRIGGER, message: /invalid trigger: triggers\[1\]\.expression/ },
  { what: 'and: members that never agree', request: trigger({ type: 'and', triggers: [cron('0 0 * * mon'), cron('0 0 * * tue')] }), status: 400, code: TRIGGER, message: /invalid trigger: / },
  { what: 'a negative jitter', request: trigger({ ...interval, jitter: -5 }), status: 400, code: TRIGGER, message: /invalid trigger: jitter/ },
  { what: 'an unknown trigger key', request: trigger({ ...interval, every: 2 }), status: 400, code: TRIGGER, message: /invalid trigger: every/ },
  { what: 'rescheduling to a bad trigger', request: patch({ trigger: { type: 'date', runDate: '2026-02-30 10:00:00' } }), status: 400, code: TRIGGER, message: /invalid trigger: runDate/ },
  { what: 'previewing a bad trigger', request: { method: 'POST', url: '/scheduler/fire-times', payload: { trigger: { type: 'cron', fields: { minute: '*/0' } } } }, status: 400, code: TRIGGER, message: /invalid trigger: fields\.minute/ },
  // 1 MB bodies
  { what: 'a 1 MB job', request: add(job({ args: [MEGABYTE] })), status: 413, code: 'FST_ERR_CTP_BODY_TOO_LARGE', message: /Request body is too large/ },
  { what: 'a 1 MB change', request: patch({ name: MEGABYTE }), status: 413, code: 'FST_ERR_CTP_BODY_TOO_LARGE', message: /Request body is too large/ },
  { what: 'a 1 MB preview', request: { method: 'POST', url: '/scheduler/fire-times', payload: { trigger: { ...interval, note: MEGABYTE } } }, status: 413, code: 'FST_ERR_CTP_BODY_TOO_LARGE', message: /too large/ },
  // ids with slashes, unicode, control characters, lengths
  { what: 'an unencoded slash in the id', request: get('/scheduler/jobs/reports/eu'), status: 404, code: 'FST_SCHEDULER_ROUTE_NOT_FOUND', message: /no admin route GET \/scheduler\/jobs\/reports\/eu; .*encode it: \/ is %2F/ },
  { what: 'an unencoded slash on delete', request: { method: 'DELETE', url: '/scheduler/jobs/reports/eu' }, status: 404, code: 'FST_SCHEDULER_ROUTE_NOT_FOUND', message: /no admin route DELETE/ },
  { what: 'an encoded slash, unknown', request: { method: 'POST', url: '/scheduler/jobs/reports%2Fus/pause' }, status: 404, code: 'FST_SCHEDULER_JOB_NOT_FOUND', message: /job 'reports\/us' does not exist/ },
  { what: 'an unknown unicode id', request: get(`/scheduler/jobs/${encodeURIComponent('日报-🚀')}`), status: 404, code: 'FST_SCHEDULER_JOB_NOT_FOUND', message: /job '日报-🚀' does not exist/ },
  { what: 'a control character in the id', request: add(job({ id: 'bell\u0007job' })), status: 400, code: INVALID_JOB, message: /invalid job: id: must not contain control characters/ },
  { what: 'a NUL in the id', request: add(job({ id: 'nul\u0000job' })), status: 400, code: INVALID_JOB, message: /invalid job: id: must not contain control characters/ },
  { what: 'a NUL in the args', request: add(job({ args: ['a\u0000b'] })), status: 400, code: INVALID_JOB, message: /invalid job: args: must not contain the NUL character/ },
  { what: 'a blank name', request: add(job({ name: '   ' })), status: 400, code: INVALID_JOB, message: /invalid job: name: must be a non-empty string/ },
  { what: 'an id of 201 characters', request: add(job({ id: 'j'.repeat(201) })), status: 400, code: VALIDATION, message: /body\.id: must not have more than 200 characters/ },
  { what: 'an empty id in the URL', request: get('/scheduler/jobs/%20'), status: 404, code: 'FST_SCHEDULER_JOB_NOT_FOUND', message: /job ' ' does not exist/ },
  { what: "an id longer than Fastify's maxParamLength", request: get(`/scheduler/jobs/${'j'.repeat(101)}`), status: 414, code: 'FST_ERR_MAX_PARAM_LENGTH', message: /exceeding the max param length/ },
  // SQL fragments
  { what: 'SQL in the id of a lookup', request: get(`/scheduler/jobs/${encodeURIComponent("x' OR '1'='1")}`), status: 404, code: 'FST_SCHEDULER_JOB_NOT_FOUND', message: /job 'x' OR '1'='1' does not exist/ },
  { what: 'SQL in the task', request: add(job({ task: "echo'; DELETE FROM scheduler_job; --" })), status: 400, code: 'FST_SCHEDULER_TASK_NOT_REGISTERED', message: /task 'echo'; DELETE FROM scheduler_job; --' is not registered/ },
  { what: 'SQL in a status filter', request: get(`/scheduler/executions?status=${encodeURIComponent("success' OR '1'='1")}`), status: 400, code: VALIDATION, message: /query\.status: must be one of/ },
  { what: 'SQL in a removal', request: { method: 'DELETE', url: `/scheduler/jobs/${encodeURIComponent('existing; DROP TABLE scheduler_job')}` }, status: 404, code: 'FST_SCHEDULER_JOB_NOT_FOUND', message: /DROP TABLE/ },
  // __proto__ and constructor keys
  { what: '__proto__ at the top', request: addRaw(JSON.stringify(job({})).replace('{', '{"__proto__":{"paused":true},')), status: 400, code: BAD_JSON, message: /the key '__proto__' is not allowed/ },
  { what: '__proto__ inside the trigger', request: addRaw('{"id":"new-job","task":"echo","trigger":{"type":"interval","hours":1,"__proto__":{"hours":0}}}'), status: 400, code: BAD_JSON, message: /the key '__proto__' is not allowed/ },
  { what: '__proto__ inside a change', request: { method: 'PATCH', url: '/scheduler/jobs/existing', payload: '{"args":[{"__proto__":{"admin":true}}]}', headers: { 'content-type': 'application/json' } }, status: 400, code: BAD_JSON, message: /'__proto__'/ },
  { what: 'constructor.prototype in the args', request: addRaw('{"id":"new-job","task":"echo","trigger":{"type":"interval","hours":1},"args":[{"constructor":{"prototype":{"polluted":true}}}]}'), status: 400, code: BAD_JSON, message: /the key 'constructor' is not allowed/ },
  { what: '__proto__ in the query string', request: get('/scheduler/jobs?__proto__=x'), status: 400, code: VALIDATION, message: /query: unknown field '__proto__'/ },
  // negative and huge numbers
  { what: 'maxInstances -1', request: add(job({ maxInstances: -1 })), status: 400, code: VALIDATION, message: /body\.maxInstances: must be >= 1/ },
  { what: 'maxInstances beyond the integer column', request: add(job({ maxInstances: 1e10 })), status: 400, code: VALIDATION, message: /body\.maxInstances: must be <= 2147483647/ },
  { what: 'timeoutMs 0', request: add(job({ timeoutMs: 0 })), status: 400, code: VALIDATION, message: /body\.timeoutMs: must be >= 1 or must be null/ },
  { what: 'misfireGraceTime 1.5', request: add(job({ misfireGraceTime: 1.5 })), status: 400, code: VALIDATION, message: /body\.misfireGraceTime: must be integer/ },
  { what: 'interval of 1e308 weeks', request: trigger({ type: 'interval', weeks: 1e308 }), status: 400, code: TRIGGER, message: /invalid trigger: / },
  { what: 'limit 1e400', request: get('/scheduler/jobs?limit=1e400'), status: 400, code: VALIDATION, message: /query\.limit: must be integer/ },
  { what: 'offset -5', request: get('/scheduler/executions?offset=-5'), status: 400, code: VALIDATION, message: /query\.offset: must be >= 0/ },
  { what: 'count -1', request: get('/scheduler/jobs/existing/fire-times?count=-1'), status: 400, code: VALIDATION, message: /query\.count: must be >= 1/ },
  { what: 'execution id -1', request: get('/scheduler/executions/-1'), status: 400, code: VALIDATION, message: /params\.id: must be >= 1/ },
  { what: 'wait 1e9', request: { method: 'POST', url: '/scheduler/jobs/existing/run?wait=1000000000' }, status: 400, code: VALIDATION, message: /query\.wait: must be <= 30000/ },
  // the audit trail's lists
  { what: 'audit: limit 0', request: get('/scheduler/audit?limit=0'), status: 400, code: VALIDATION, message: /query\.limit: must be >= 1/ },
  { what: 'audit: limit 501', request: get('/scheduler/audit?limit=501'), status: 400, code: VALIDATION, message: /query\.limit: must be <= 500/ },
  { what: 'audit: offset -1', request: get('/scheduler/jobs/existing/audit?offset=-1'), status: 400, code: VALIDATION, message: /query\.offset: must be >= 0/ },
  { what: 'audit: from is not a date', request: get('/scheduler/audit?from=yesterday'), status: 400, code: VALIDATION, message: /query\.from: must match format "date-time"/ },
  { what: 'audit: to without an offset', request: get('/scheduler/audit?to=2026-12-01T10:00:00'), status: 400, code: VALIDATION, message: /query\.to: must match format "date-time"/ },
  { what: 'audit: from after to', request: get('/scheduler/audit?from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z'), status: 400, code: VALIDATION, message: /query\.from: 2026-12-02T00:00:00Z is after query\.to \(2026-12-01T00:00:00Z\); swap them/ },
  { what: 'audit: an empty actor', request: get('/scheduler/audit?actor='), status: 400, code: VALIDATION, message: /query\.actor: must not have fewer than 1 characters/ },
  { what: 'audit: an actor of 201 characters', request: get(`/scheduler/audit?actor=${'a'.repeat(201)}`), status: 400, code: VALIDATION, message: /query\.actor: must not have more than 200 characters/ },
  { what: 'audit: an unknown filter', request: get('/scheduler/audit?action=paused'), status: 400, code: VALIDATION, message: /query: unknown field 'action'/ },
  { what: "audit: jobId on a job's trail", request: get('/scheduler/jobs/existing/audit?jobId=other'), status: 400, code: VALIDATION, message: /query: unknown field 'jobId'/ },
  { what: 'audit: an unknown job', request: get('/scheduler/jobs/ghost/audit'), status: 404, code: 'FST_SCHEDULER_JOB_NOT_FOUND', message: /job 'ghost' does not exist/ },
  { what: 'audit: SQL in the actor filter', request: get(`/scheduler/audit?actor=${encodeURIComponent("x' OR '1'='1")}&limit=abc`), status: 400, code: VALIDATION, message: /query\.limit: must be integer/ },
  { what: 'audit: a POST', request: { method: 'POST', url: '/scheduler/audit', payload: {} }, status: 404, code: 'FST_SCHEDULER_ROUTE_NOT_FOUND', message: /POST \/scheduler\/audit/ },
  // extra fields
  { what: 'an extra field', request: add(job({ cron: '* * * * *' })), status: 400, code: VALIDATION, message: /body: unknown field 'cron' \(known: id, task, trigger, args, name, paused, misfireGraceTime, coalesce, maxInstances, timeoutMs, captureLogs, retry, recover\)/ },
  { what: 'captureLogs is a string', request: add(job({ captureLogs: 'yes' })), status: 400, code: VALIDATION, message: /body\.captureLogs: must be boolean/ },
  // retries and recovery
  { what: 'retry is a number', request: add(job({ retry: 3 })), status: 400, code: VALIDATION, message: /body\.retry: must be object or must be null/ },
  { what: 'retry without attempts', request: add(job({ retry: { delayMs: 100 } })), status: 400, code: VALIDATION, message: /body\.retry: must have required properties attempts/ },
  { what: 'retry attempts 0', request: add(job({ retry: { attempts: 0 } })), status: 400, code: VALIDATION, message: /body\.retry\.attempts: must be >= 1/ },
  { what: 'retry attempts 1001', request: add(job({ retry: { attempts: 1001 } })), status: 400, code: VALIDATION, message: /body\.retry\.attempts: must be <= 1000/ },
  { what: 'retry attempts 2.5', request: add(job({ retry: { attempts: 2.5 } })), status: 400, code: VALIDATION, message: /body\.retry\.attempts: must be integer/ },
  { what: 'an unknown backoff', request: add(job({ retry: { attempts: 3, backoff: 'linear' } })), status: 400, code: VALIDATION, message: /body\.retry\.backoff: must be one of \"fixed\", \"exponential\"/ },
  { what: 'a negative retry delay', request: add(job({ retry: { attempts: 3, delayMs: -1 } })), status: 400, code: VALIDATION, message: /body\.retry\.delayMs: must be >= 0/ },
  { what: 'maxDelayMs below delayMs', request: add(job({ retry: { attempts: 3, delayMs: 5000, maxDelayMs: 100 } })), status: 400, code: INVALID_JOB, message: /invalid job: retry\.maxDelayMs: must be a whole number of milliseconds from delayMs \(5000\) to 2147483647, got 100/ },
  { what: 'an unknown retry option', request: add(job({ retry: { attempts: 3, factor: 3 } })), status: 400, code: VALIDATION, message: /body\.retry: must not have additional properties/ },
  { what: 'recover is a string', request: add(job({ recover: 'yes' })), status: 400, code: VALIDATION, message: /body\.recover: must be boolean/ },
  { what: 'recover without retries', request: add(job({ recover: true })), status: 400, code: INVALID_JOB, message: /invalid job: recover: needs attempts to recover with: .*set retry: \{ attempts: 2 \} or more/ },
  { what: 'a change to retry attempts 0', request: patch({ retry: { attempts: 0 } }), status: 400, code: VALIDATION, message: /body\.retry\.attempts: must be >= 1/ },
  { what: 'a change to recover without retries', request: patch({ recover: true, retry: null }), status: 400, code: INVALID_JOB, message: /invalid job: recover: needs attempts to recover with/ },
  { what: 'replaceExisting in a change', request: patch({ name: 'n', replaceExisting: true }), status: 400, code: VALIDATION, message: /body: unknown field 'replaceExisting'/ },
  { what: 'changing the id', request: patch({ id: 'renamed' }), status: 400, code: VALIDATION, message: /body: unknown field 'id'/ },
  { what: 'an extra preview field', request: { method: 'POST', url: '/scheduler/fire-times', payload: { trigger: interval, from: '2026-01-01T00:00:00Z' } }, status: 400, code: VALIDATION, message: /body: unknown field 'from' \(known: trigger, count\)/ },
  { what: 'a leap second as from', request: get('/scheduler/audit?from=2026-12-31T23:59:60Z'), status: 400, code: VALIDATION, message: /query\.from: "2026-12-31T23:59:60Z" is not a date this server can read/ },
  { what: 'an RFC 9557 suffix as to', request: get(`/scheduler/executions?to=${encodeURIComponent('2026-12-01T00:00:00Z[UTC]')}`), status: 400, code: VALIDATION, message: /query\.to: .* is not a date this server can read/ },
  { what: 'a NUL in the actor filter', request: get('/scheduler/audit?actor=%00'), status: 400, code: VALIDATION, message: /query\.actor: must match pattern/ },
  { what: 'a NUL in the job filter', request: get('/scheduler/executions?jobId=a%00b'), status: 400, code: VALIDATION, message: /query\.jobId: must match pattern/ },
  { what: 'an unknown list filter', request: get('/scheduler/jobs?name=x'), status: 400, code: VALIDATION, message: /query: unknown field 'name'/ },
  // bodies that are not JSON: what a page on another site can make a browser send without asking
  { what: 'run with a text/plain body that looks like JSON', request: typed('POST', '/scheduler/jobs/existing/run', 'text/plain', '{"wait":"=0"}'), status: 415, code: MEDIA_TYPE, message: /unsupported media type 'text\/plain'/ },
  { what: 'pause with an urlencoded form', request: typed('POST', '/scheduler/jobs/existing/pause', 'application/x-www-form-urlencoded', 'go=1'), status: 415, code: MEDIA_TYPE, message: /unsupported media type 'application\/x-www-form-urlencoded'/ },
  { what: 'resume with a multipart form', request: typed('POST', '/scheduler/jobs/paused/resume', 'multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="go"\r\n\r\n1\r\n--x--\r\n'), status: 415, code: MEDIA_TYPE, message: /unsupported media type 'multipart\/form-data; boundary=x'/ },
  { what: 'pause with an empty text/plain body', request: typed('POST', '/scheduler/jobs/existing/pause', 'text/plain', ''), status: 415, code: MEDIA_TYPE, message: /unsupported media type 'text\/plain'/ },
  { what: 'run with a body and no content type', request: { method: 'POST', url: '/scheduler/jobs/existing/run', payload: '{}' }, status: 415, code: MEDIA_TYPE, message: /unsupported media type \(none given, but a body was sent\)/ },
  { what: 'a change as a form', request: typed('PATCH', '/scheduler/jobs/existing', 'application/x-www-form-urlencoded', 'paused=true'), status: 415, code: MEDIA_TYPE, message: /unsupported media type/ },
  { what: 'a removal with a text body', request: typed('DELETE', '/scheduler/jobs/existing', 'text/plain', 'please'), status: 415, code: MEDIA_TYPE, message: /unsupported media type 'text\/plain'/ },
  { what: 'a preview as text', request: typed('POST', '/scheduler/fire-times', 'text/plain', '{"trigger":{"type":"interval","hours":1}}'), status: 415, code: MEDIA_TYPE, message: /unsupported media type 'text\/plain'/ },
  // actions without input: no body, or {}
  { what: 'pause with a JSON body', request: { method: 'POST', url: '/scheduler/jobs/existing/pause', payload: { paused: true } }, status: 400, code: VALIDATION, message: /^body: POST \/scheduler\/jobs\/:id\/pause takes no input; send no body, or \{\}$/ },
  { what: 'run with a JSON array', request: typed('POST', '/scheduler/jobs/existing/run', 'application/json', '[]'), status: 400, code: VALIDATION, message: /body: POST \/scheduler\/jobs\/:id\/run takes no input/ },
  { what: 'delete with a JSON body', request: typed('DELETE', '/scheduler/jobs/existing', 'application/json', '{"force":true}'), status: 400, code: VALIDATION, message: /body: DELETE \/scheduler\/jobs\/:id takes no input/ },
  // cross-site: a browser acting for a page of another origin
  { what: 'run from a cross-site page', request: fromPage('POST', '/scheduler/jobs/existing/run', { 'sec-fetch-site': 'cross-site', origin: EVIL }), status: 403, code: CROSS_SITE, message: /cross-site request refused: a POST from origin https:\/\/evil\.example \(Sec-Fetch-Site: cross-site\) may not change jobs; .*own origin \(http:\/\/localhost\).*allowedOrigins/ },
  { what: 'pause from another port of the same host', request: fromPage('POST', '/scheduler/jobs/existing/pause', { 'sec-fetch-site': 'same-site', origin: 'http://localhost:4000' }), status: 403, code: CROSS_SITE, message: /from origin http:\/\/localhost:4000 \(Sec-Fetch-Site: same-site\)/ },
  { what: 'resume from another origin, no Sec-Fetch-Site', request: fromPage('POST', '/scheduler/jobs/paused/resume', { origin: EVIL }), status: 403, code: CROSS_SITE, message: /a POST from origin https:\/\/evil\.example may not change jobs/ },
  { what: 'delete named by Referer only', request: fromPage('DELETE', '/scheduler/jobs/existing', { referer: `${EVIL}/prize.html` }), status: 403, code: CROSS_SITE, message: /a DELETE from origin https:\/\/evil\.example may not/ },
  { what: 'add from an opaque origin', request: fromPage('POST', '/scheduler/jobs', { origin: 'null', 'content-type': 'application/json' }, JSON.stringify(job({}))), status: 403, code: CROSS_SITE, message: /from an opaque origin \(null\)/ },
  { what: 'a change from the https origin of the same host', request: fromPage('PATCH', '/scheduler/jobs/existing', { origin: 'https://localhost', 'content-type': 'application/json' }, '{"name":"x"}'), status: 403, code: CROSS_SITE, message: /from origin https:\/\/localhost may not change jobs; .*\(http:\/\/localhost\)/ },
  { what: 'a cross-site text/plain run: refused as cross-site first', request: fromPage('POST', '/scheduler/jobs/existing/run', { 'sec-fetch-site': 'cross-site', origin: EVIL, 'content-type': 'text/plain' }, '{"a":"=b"}'), status: 403, code: CROSS_SITE, message: /evil\.example/ },
  { what: 'a cross-site page that names no origin', request: fromPage('POST', '/scheduler/jobs/existing/pause', { 'sec-fetch-site': 'cross-site' }), status: 403, code: CROSS_SITE, message: /from a page that did not name its origin \(Sec-Fetch-Site: cross-site\)/ },
  { what: 'a cross-site request to an unknown path', request: fromPage('POST', '/scheduler/jobs/existing?_method=DELETE', { 'sec-fetch-site': 'same-site', origin: 'http://localhost:4000' }), status: 403, code: CROSS_SITE, message: /localhost:4000/ }
]

t.test(`bad input catalogue: ${CASES.length} malformed requests, each a 4xx naming the problem, tables unchanged`, async (t) => {
  t.ok(CASES.length >= 95, 'at least 95 cases')
  const { app, url } = await routesApp(t, 'routes_bad_input')
  t.equal((await app.inject(add({ id: 'existing', task: 'echo', trigger: cron('0 0 1 1 *'), args: ['eu'] }))).statusCode, 201)
  t.equal((await app.inject(add({ id: 'paused', task: 'fail', trigger: interval, paused: true }))).statusCode, 201)
  const run = await app.inject({ method: 'POST', url: '/scheduler/jobs/existing/run?wait=20000' })
  t.equal(run.json().status, 'success', 'an execution row to keep')
  await app.scheduler.shutdown() // nothing may change the tables but the requests below

  const before = await dumpTables(url)
  t.same(before.counts, [{ jobs: 2, executions: 1 }])
  for (const { what, request, status, code, message } of CASES) {
    const response = await app.inject(request)
    t.equal(response.statusCode, status, `${what}: ${status}`, { body: response.body.slice(0, 300) })
    t.ok(response.statusCode >= 400 && response.statusCode < 500, `${what}: a 4xx`)
    const body = response.json()
    t.match(body, { statusCode: status, code, error: String, message }, `${what}: ${body.message}`)
    // Fastify answers an over-long path parameter before routing, outside the routes' context.
    if (code !== 'FST_ERR_MAX_PARAM_LENGTH') t.equal(response.headers['cache-control'], 'no-store', `${what}: not cached`)
    t.same((await dumpTables(url)).counts, before.counts, `${what}: row counts unchanged`)
  }
  t.same(await dumpTables(url), before, 'every table is exactly as before (no audit row for a refused request)')
})
