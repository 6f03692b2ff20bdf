/**
 * Protobuf wire types, and the field numbers of the messages that are
 * coded by hand (encoded-message.ts on the source side, decoded-message.ts
 * on the target side). They must match proto/shardsync/v1/*.proto; the
 * tests of both codecs compare them with protobufjs, so a mismatch fails
 * there.
 */

export const VARINT = 0
export const FIXED64 = 1
export const DELIMITED = 2
export const START_GROUP = 3
export const END_GROUP = 4
export const FIXED32 = 5

/** ObjectInfo (common.proto). */
export const OBJECT_INFO = { key: 1, size: 2, etag: 3, mtime: 4, originSite: 5, crc32: 6, metadata: 7 } as const
/** ListIndexResponse (sync.proto). */
export const LIST_INDEX_RESPONSE = { entries: 1, nextMarker: 2, tombstones: 3 } as const
/** FetchObjectsResponse (sync.proto): one object's info, miss or data chunk, or packed objects. */
export const FETCH_OBJECTS_RESPONSE = { info: 1, missing: 2, data: 3, objects: 4 } as const
/** FetchedObject (sync.proto): one whole object in a packed message. */
export const FETCHED_OBJECT = { info: 1, missing: 2, data: 3 } as const
/**
 * StreamShardResponse (sync.proto). Fields 1-3 are those of
 * ListIndexResponse and field 4 that of FetchObjectsResponse.objects, so the
 * index-page and packed-objects encoders write its messages.
 */
export const STREAM_SHARD_RESPONSE = { references: 1, resumeMarker: 2, tombstones: 3, objects: 4, endOfBatch: 5, done: 6, start: 7 } as const
/** StreamShardStart (sync.proto). */
export const STREAM_SHARD_START = { state: 1, newShards: 2, logSeq: 3, bucketId: 4, shardCount: 5, filling: 6 } as const
/** GetObjectResponse (object.proto). */
export const GET_OBJECT_RESPONSE = { info: 1, data: 2 } as const

/** A field's tag: its number and wire type, as one varint value. */
export function fieldTag (field: number, wireType: number): number {
  return field * 8 + wireType
}
