/**
 * Which S3 operation a request is: from its method, path-style address
 * (/bucket/key) and sub-resource query. Pure (unit-tested). Each operation
 * names the gRPC method whose roles it takes (node/rpc/method-roles.ts), so
 * S3 and gRPC answer to the one table: data calls need client (or admin).
 */
export type S3Op =
  | 'ListBuckets' | 'CreateBucket' | 'HeadBucket' | 'DeleteBucket' | 'GetBucketLocation' | 'GetBucketVersioning'
  | 'ListObjects' | 'ListObjectsV2' | 'ListMultipartUploads' | 'DeleteObjects'
  | 'PutObject' | 'CopyObject' | 'GetObject' | 'HeadObject' | 'DeleteObject'
  | 'CreateMultipartUpload' | 'UploadPart' | 'UploadPartCopy' | 'CompleteMultipartUpload' | 'AbortMultipartUpload' | 'ListParts'

const OBJECT_SERVICE = '/shardsync.v1.ObjectService/'

/** The gRPC method whose roles an S3 operation needs. */
export const ROLE_METHOD: Readonly<Record<S3Op, string>> = Object.freeze({
  ListBuckets: OBJECT_SERVICE + 'ListBuckets',
  CreateBucket: OBJECT_SERVICE + 'CreateBucket',
  HeadBucket: OBJECT_SERVICE + 'ListObjects',
  DeleteBucket: OBJECT_SERVICE + 'DeleteBucket',
  GetBucketLocation: OBJECT_SERVICE + 'ListObjects',
  GetBucketVersioning: OBJECT_SERVICE + 'ListObjects',
  ListObjects: OBJECT_SERVICE + 'ListObjects',
  ListObjectsV2: OBJECT_SERVICE + 'ListObjects',
  ListMultipartUploads: OBJECT_SERVICE + 'ListObjects',
  DeleteObjects: OBJECT_SERVICE + 'DeleteObject',
  PutObject: OBJECT_SERVICE + 'PutObject',
  CopyObject: OBJECT_SERVICE + 'PutObject',
  GetObject: OBJECT_SERVICE + 'GetObject',
  HeadObject: OBJECT_SERVICE + 'HeadObject',
  DeleteObject: OBJECT_SERVICE + 'DeleteObject',
  CreateMultipartUpload: OBJECT_SERVICE + 'PutObject',
  UploadPart: OBJECT_SERVICE + 'PutObject',
  UploadPartCopy: OBJECT_SERVICE + 'PutObject',
  CompleteMultipartUpload: OBJECT_SERVICE + 'PutObject',
  AbortMultipartUpload: OBJECT_SERVICE + 'PutObject',
  ListParts: OBJECT_SERVICE + 'PutObject'
})

/** Sub-resources this front door does not serve (answered NotImplemented rather than misread as data calls). */
const UNSUPPORTED = ['acl', 'policy', 'tagging', 'lifecycle', 'cors', 'website', 'replication', 'encryption', 'object-lock', 'retention', 'legal-hold', 'notification', 'logging', 'requestPayment', 'accelerate', 'analytics', 'inventory', 'metrics', 'intelligent-tiering', 'ownershipControls', 'publicAccessBlock', 'torrent', 'restore', 'select', 'versions', 'attributes']

export type Route = { op: S3Op } | { error: 'MethodNotAllowed' | 'NotImplemented', what: string }

export function route (method: string, bucket: string, key: string, q: ReadonlyMap<string, string>, headers: Readonly<Record<string, unknown>>): Route {
  for (const u of UNSUPPORTED) if (q.has(u)) return { error: 'NotImplemented', what: `the ?${u} sub-resource` }
  if (bucket === '') return method === 'GET' ? { op: 'ListBuckets' } : { error: 'MethodNotAllowed', what: `${method} /` }
  if (key === '') {
    switch (method) {
      case 'PUT': return q.has('versioning') ? { error: 'NotImplemented', what: 'bucket versioning' } : { op: 'CreateBucket' }
      case 'HEAD': return { op: 'HeadBucket' }
      case 'DELETE': return { op: 'DeleteBucket' }
      case 'POST': return q.has('delete') ? { op: 'DeleteObjects' } : { error: 'MethodNotAllowed', what: 'POST on a bucket without ?delete' }
      case 'GET':
        if (q.has('location')) return { op: 'GetBucketLocation' }
        if (q.has('versioning')) return { op: 'GetBucketVersioning' }
        if (q.has('uploads')) return { op: 'ListMultipartUploads' }
        return { op: q.get('list-type') === '2' ? 'ListObjectsV2' : 'ListObjects' }
      default: return { error: 'MethodNotAllowed', what: method }
    }
  }
  const uploadId = q.get('uploadId')
  switch (method) {
    case 'PUT':
      if (uploadId !== undefined || q.has('partNumber')) return { op: headers['x-amz-copy-source'] !== undefined ? 'UploadPartCopy' : 'UploadPart' }
      return { op: headers['x-amz-copy-source'] !== undefined ? 'CopyObject' : 'PutObject' }
    case 'GET': return { op: uploadId !== undefined ? 'ListParts' : 'GetObject' }
    case 'HEAD': return { op: 'HeadObject' }
    case 'DELETE': return { op: uploadId !== undefined ? 'AbortMultipartUpload' : 'DeleteObject' }
    case 'POST':
      if (q.has('uploads')) return { op: 'CreateMultipartUpload' }
      if (uploadId !== undefined) return { op: 'CompleteMultipartUpload' }
      return { error: 'MethodNotAllowed', what: 'POST on an object without ?uploads or ?uploadId' }
    default: return { error: 'MethodNotAllowed', what: method }
  }
}

/** "/bucket/key..." (decoded) -> bucket and key; the key keeps every character after the first '/' past the bucket. */
export function splitPath (path: string): { bucket: string, key: string } {
  const p = path.startsWith('/') ? path.slice(1) : path
  const slash = p.indexOf('/')
  return slash < 0 ? { bucket: p, key: '' } : { bucket: p.slice(0, slash), key: p.slice(slash + 1) }
}
