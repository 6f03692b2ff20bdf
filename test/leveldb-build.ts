/**
 * Which LevelDB build the tests run on. `npm install` builds classic-level
 * with shardsync's patches when a toolchain is there and keeps the stock
 * prebuilt binary otherwise (scripts/build-leveldb.js); the tests of a
 * patch skip, saying why, when the loaded binary lacks it.
 */
import { leveldbPatches } from '../storage/database'

/** The patch ids of the loaded binary ('mmap-limit-env-1', …); empty for the stock one. */
export function loadedPatches (): string[] {
  return (leveldbPatches() ?? '').split('+').filter(p => p !== '')
}

/**
 * A tap `skip` for a test that needs patch `name` (its id without the
 * version, e.g. 'mmap-limit-env'): false when the loaded binary has it,
 * else the reason.
 */
export function needsPatch (name: string): string | false {
  if (loadedPatches().some(p => p.replace(/-\d+$/, '') === name)) return false
  return `needs the patched LevelDB build (${name}); this install runs the stock prebuilt binary (npm run build-leveldb builds it)`
}
