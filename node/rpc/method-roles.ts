/**
 * Who may call what: the one table from every RPC method's full path to the
 * roles allowed to call it. Read by the auth interceptor (interceptors.ts)
 * for every call but health; a path without a row is refused (fail closed).
 * test/security/method-roles.test.ts checks that the table names exactly the
 * methods of the loaded proto services, so a new method without a row fails.
 *
 * Roles (least privilege):
 * - client: data calls (ObjectService), and ListShards to show a bucket's
 *   layout (`shardsync bucket shards`).
 * - peer: what a target site calls on its source (the whole SyncService) and
 *   ListBuckets to discover buckets. Peer calls are bound to the caller's
 *   authenticated site (interceptors.ts, sync-service.ts).
 * - admin: the AdminService (peers, splits, status, info) and everything a
 *   client may do: an admin can already point the node at a source of its
 *   choice (AddPeer), so data access adds no power, and operator tools
 *   (verify, bucket create) then need one credential. Admin does NOT imply
 *   peer: peer calls speak for a site, and an admin is not one.
 */

export const ROLES = ['client', 'peer', 'admin'] as const
export type Role = typeof ROLES[number]

const CLIENT: readonly Role[] = Object.freeze(['client', 'admin'])
const PEER: readonly Role[] = Object.freeze(['peer'])
const ADMIN: readonly Role[] = Object.freeze(['admin'])
const ANY: readonly Role[] = Object.freeze(['client', 'peer', 'admin'])

export const METHOD_ROLES: Readonly<Record<string, readonly Role[]>> = Object.freeze({
  '/shardsync.v1.ObjectService/CreateBucket': CLIENT,
  '/shardsync.v1.ObjectService/ListBuckets': ANY, // peers discover buckets with it
  '/shardsync.v1.ObjectService/DeleteBucket': CLIENT,
  '/shardsync.v1.ObjectService/PutObject': CLIENT,
  '/shardsync.v1.ObjectService/GetObject': CLIENT,
  '/shardsync.v1.ObjectService/HeadObject': CLIENT,
  '/shardsync.v1.ObjectService/DeleteObject': CLIENT,
  '/shardsync.v1.ObjectService/ListObjects': CLIENT,

  '/shardsync.v1.SyncService/ListShards': ANY, // bucket layout: also `shardsync bucket shards`
  '/shardsync.v1.SyncService/ListIndex': PEER,
  '/shardsync.v1.SyncService/GetObject': PEER,
  '/shardsync.v1.SyncService/FetchObjects': PEER,
  '/shardsync.v1.SyncService/QuerySplitState': PEER,
  '/shardsync.v1.SyncService/NotifyReshardComplete': PEER,
  '/shardsync.v1.SyncService/PullChanges': PEER,
  '/shardsync.v1.SyncService/ReportPositions': PEER,
  '/shardsync.v1.SyncService/StreamShard': PEER,

  '/shardsync.v1.AdminService/NodeInfo': ADMIN,
  '/shardsync.v1.AdminService/SplitShard': ADMIN,
  '/shardsync.v1.AdminService/AddPeer': ADMIN,
  '/shardsync.v1.AdminService/RemovePeer': ADMIN,
  '/shardsync.v1.AdminService/ListPeers': ADMIN,
  '/shardsync.v1.AdminService/SyncStatus': ADMIN,

  // Server reflection describes the API, no data: any authenticated caller.
  '/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo': ANY,
  '/grpc.reflection.v1.ServerReflection/ServerReflectionInfo': ANY
})

/** The roles that may call a method path; empty for an unknown path. */
export function rolesFor (path: string): readonly Role[] {
  return Object.prototype.hasOwnProperty.call(METHOD_ROLES, path) ? METHOD_ROLES[path] : []
}

export function isRole (v: unknown): v is Role {
  return typeof v === 'string' && (ROLES as readonly string[]).includes(v)
}
