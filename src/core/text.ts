import type { ErrorDetail } from './errors.ts';

const NUL = '\u0000';

/** Parsed JSON or form data: arrays and plain objects, not streams or other objects. */
const isPlainData = (value: unknown): value is object => {
  if (typeof value !== 'object' || value === null) return false;
  const prototype = Object.getPrototypeOf(value);
  return Array.isArray(value) || prototype === Object.prototype || prototype === null;
};

/**
 * Where a NUL character hides in a value (`changes.3.iccid`; `""` for the value itself), if anywhere:
 * in a string, an object key or anything nested (in arrays and plain objects). No field of ours holds one, PostgreSQL cannot store
 * one in text, and SQLite would cut the string at it; so it is refused before anything else reads it.
 * Walked without recursion, so a deeply nested body cannot exhaust the stack.
 */
export function nulCharacterAt(value: unknown): string | undefined {
  const pending: Array<[unknown, string]> = [[value, '']];
  while (pending.length > 0) {
    const [item, path] = pending.pop()!;
    if (typeof item === 'string') {
      if (item.includes(NUL)) return path;
    } else if (isPlainData(item)) {
      for (const [key, child] of Object.entries(item)) {
        const childPath = path === '' ? key : `${path}.${key}`;
        if (key.includes(NUL)) return childPath;
        pending.push([child, childPath]);
      }
    }
  }
  return undefined;
}

export const nulDetail = (field: string): ErrorDetail => ({
  ...(field === '' ? {} : { field }),
  code: 'INVALID_CHARACTER',
  message: 'holds a NUL character (\\u0000)',
});
