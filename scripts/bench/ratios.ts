/**
 * The full-sync ratios the bench judges (issue 28), from the figures of one
 * run: full sync against the raw copy (rate and CPU per object), against
 * the gRPC baselines, and against rclone. Pure: no I/O.
 */
import type { BaselineRun, Transport } from './baseline'
import type { FullSyncRun } from './fullsync'
import type { RcloneRun } from './rclone'
import { round } from './common'
import { TARGETS } from './params'

export interface FullSyncRatios {
  /** Full sync obj/s / raw TCP copy obj/s. */
  fullSyncOverBaseline: number
  baseline: 'tcp'
  /** CPU µs per object of full sync (both nodes) / the raw copy's (sender and receiver). */
  cpuPerObjectOverBaseline: number
  baselineCpuMicrosPerObject: number
  fullSyncOverGrpcPerObject?: number
  fullSyncOverGrpcBatched?: number
  /** Full sync obj/s / rclone copy obj/s of the same files (when the rclone section ran). */
  fullSyncOverRclone?: number
  /** The path the ratios are of. */
  path?: string
  targets: { fullSyncOverBaseline: number, cpuPerObjectOverBaseline: number, fullSyncOverRclone: number }
}

export function fullSyncRatios (fs: FullSyncRun | undefined, baseline: Partial<Record<Transport, BaselineRun>> | undefined, rclone: RcloneRun | undefined): FullSyncRatios | undefined {
  const tcp = baseline?.tcp
  if (fs === undefined || tcp === undefined) return undefined
  const vs = (t: Transport): number | undefined => baseline?.[t] === undefined ? undefined : round(fs.objectsPerSecond / (baseline[t] as BaselineRun).objectsPerSecond, 3)
  const baseCpu = tcp.cpuMicrosPerObject
  return {
    fullSyncOverBaseline: round(fs.objectsPerSecond / tcp.objectsPerSecond, 3),
    baseline: 'tcp',
    cpuPerObjectOverBaseline: round(fs.cpuMicrosPerObject / baseCpu, 3),
    baselineCpuMicrosPerObject: round(baseCpu, 1),
    fullSyncOverGrpcPerObject: vs('grpc'),
    fullSyncOverGrpcBatched: vs('grpc-batched'),
    fullSyncOverRclone: rclone === undefined ? undefined : round(fs.objectsPerSecond / rclone.objectsPerSecond, 3),
    path: fs.path,
    targets: { fullSyncOverBaseline: TARGETS.fullSyncRatio, cpuPerObjectOverBaseline: TARGETS.cpuPerObjectRatio, fullSyncOverRclone: TARGETS.rcloneRatio }
  }
}
