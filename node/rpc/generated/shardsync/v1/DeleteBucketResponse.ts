// Original file: proto/shardsync/v1/object.proto


export interface DeleteBucketResponse {
}

export interface DeleteBucketResponse__Output {
}
