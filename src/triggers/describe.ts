export function describeTrigger (_json: unknown): string { return '' }
