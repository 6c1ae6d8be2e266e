/**
 * Triggers: pure, serialisable values that compute fire times (DESIGN.md, "Trigger JSON").
 *
 * - `createTrigger(json)` validates and compiles trigger JSON into a {@link Trigger};
 * - `previewFireTimes(json, { count, from })` lists upcoming fire times;
 * - `describeTrigger(json)` says when a trigger fires, in one English sentence;
 * - `computeJitterMs(trigger, fireTime, nextFireTime)` draws the random delay of one occurrence.
 */
export { createTrigger } from './create.js'
export { describeTrigger, type DescribeOptions } from './describe.js'
export { computeJitterMs } from './jitter.js'
export { MAX_PREVIEW_COUNT, type PreviewOptions, previewFireTimes } from './preview.js'
export { MAX_AND_ROUNDS } from './combining.js'
export * from './types.js'
