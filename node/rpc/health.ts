/**
 * grpc.health.v1.Health for a shardsync node: a thin wrapper around
 * grpc-health-check's HealthImplementation. Called by whoever builds the
 * node's grpc.Server (and by test/reflection.test.ts). Owns the serving
 * status of the whole server (""), of each shardsync.v1 service and of
 * writes ("shardsync.v1.Writes"); every one of them starts NOT_SERVING
 * until the caller says setServing().
 */
import type * as grpc from '@grpc/grpc-js'
import { HealthImplementation, type ServingStatus } from 'grpc-health-check'

/** Full names of the shardsync.v1 services, as health checks and reflection name them. */
export const SHARDSYNC_SERVICE_NAMES = [
  'shardsync.v1.ObjectService',
  'shardsync.v1.SyncService',
  'shardsync.v1.AdminService'
] as const

/**
 * Health of writes alone: NOT_SERVING while the disk is full (reads, and
 * so "" and every service, stay SERVING; node/space-guard.ts).
 */
export const WRITES_HEALTH_NAME = 'shardsync.v1.Writes'

/** The names whose status this wrapper sets: the whole server (""), each service, and writes. */
const HEALTH_NAMES: readonly string[] = ['', ...SHARDSYNC_SERVICE_NAMES, WRITES_HEALTH_NAME]

export interface Health {
  /** Registers grpc.health.v1.Health (Check, Watch, List) on the server. */
  addToServer: (server: grpc.Server) => void
  /** Reports SERVING for "" and every shardsync.v1 service. */
  setServing: () => void
  /** Reports NOT_SERVING for "" and every shardsync.v1 service (e.g. on shutdown). */
  setNotServing: () => void
  /** Writes alone: SERVING or NOT_SERVING (disk full); remembered across setServing. */
  setWritable: (writable: boolean) => void
}

export function createHealth (): Health {
  const impl = new HealthImplementation(
    Object.fromEntries(HEALTH_NAMES.map((name) => [name, 'NOT_SERVING']))
  )
  let writable = true
  let serving = false
  const setAll = (status: ServingStatus): void => {
    serving = status === 'SERVING'
    for (const name of HEALTH_NAMES) impl.setStatus(name, name === WRITES_HEALTH_NAME && !writable ? 'NOT_SERVING' : status)
  }
  return {
    addToServer: (server) => { impl.addToServer(server) },
    setServing: () => { setAll('SERVING') },
    setNotServing: () => { setAll('NOT_SERVING') },
    setWritable: (w) => {
      writable = w
      impl.setStatus(WRITES_HEALTH_NAME, serving && w ? 'SERVING' : 'NOT_SERVING')
    }
  }
}
