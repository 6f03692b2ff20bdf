// Original file: proto/shardsync/v1/object.proto


export interface ListBucketsRequest {
}

export interface ListBucketsRequest__Output {
}
