/**
 * grpc.health.v1.Health for a shardsync node: a thin wrapper around
 * grpc-health-check's HealthImplementation. Called by whoever builds the
 * node's grpc.Server (and by test/reflection.test.ts). Owns the serving
 * status of the whole server ("") and of each shardsync.v1 service; every one
 * of them starts NOT_SERVING until the caller says setServing().
 */
import type * as grpc from '@grpc/grpc-js'
import { HealthImplementation, type ServingStatus } from 'grpc-health-check'

/** Full names of the shardsync.v1 services, as health checks and reflection name them. */
export const SHARDSYNC_SERVICE_NAMES = [
  'shardsync.v1.ObjectService',
  'shardsync.v1.SyncService',
  'shardsync.v1.AdminService'
] as const

/** The names whose status this wrapper sets: the whole server ("") and each service. */
const HEALTH_NAMES: readonly string[] = ['', ...SHARDSYNC_SERVICE_NAMES]

export interface Health {
  /** Registers grpc.health.v1.Health (Check, Watch, List) on the server. */
  addToServer: (server: grpc.Server) => void
  /** Reports SERVING for "" and every shardsync.v1 service. */
  setServing: () => void
  /** Reports NOT_SERVING for "" and every shardsync.v1 service (e.g. on shutdown). */
  setNotServing: () => void
}

export function createHealth (): Health {
  const impl = new HealthImplementation(
    Object.fromEntries(HEALTH_NAMES.map((name) => [name, 'NOT_SERVING']))
  )
  const setAll = (status: ServingStatus): void => {
    for (const name of HEALTH_NAMES) impl.setStatus(name, status)
  }
  return {
    addToServer: (server) => { impl.addToServer(server) },
    setServing: () => { setAll('SERVING') },
    setNotServing: () => { setAll('NOT_SERVING') }
  }
}
