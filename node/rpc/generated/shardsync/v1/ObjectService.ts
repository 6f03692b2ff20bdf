// Original file: proto/shardsync/v1/object.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { Bucket as _shardsync_v1_Bucket, Bucket__Output as _shardsync_v1_Bucket__Output } from '../../shardsync/v1/Bucket';
import type { CreateBucketRequest as _shardsync_v1_CreateBucketRequest, CreateBucketRequest__Output as _shardsync_v1_CreateBucketRequest__Output } from '../../shardsync/v1/CreateBucketRequest';
import type { DeleteBucketRequest as _shardsync_v1_DeleteBucketRequest, DeleteBucketRequest__Output as _shardsync_v1_DeleteBucketRequest__Output } from '../../shardsync/v1/DeleteBucketRequest';
import type { DeleteBucketResponse as _shardsync_v1_DeleteBucketResponse, DeleteBucketResponse__Output as _shardsync_v1_DeleteBucketResponse__Output } from '../../shardsync/v1/DeleteBucketResponse';
import type { DeleteObjectRequest as _shardsync_v1_DeleteObjectRequest, DeleteObjectRequest__Output as _shardsync_v1_DeleteObjectRequest__Output } from '../../shardsync/v1/DeleteObjectRequest';
import type { DeleteObjectResponse as _shardsync_v1_DeleteObjectResponse, DeleteObjectResponse__Output as _shardsync_v1_DeleteObjectResponse__Output } from '../../shardsync/v1/DeleteObjectResponse';
import type { GetObjectRequest as _shardsync_v1_GetObjectRequest, GetObjectRequest__Output as _shardsync_v1_GetObjectRequest__Output } from '../../shardsync/v1/GetObjectRequest';
import type { GetObjectResponse as _shardsync_v1_GetObjectResponse, GetObjectResponse__Output as _shardsync_v1_GetObjectResponse__Output } from '../../shardsync/v1/GetObjectResponse';
import type { HeadObjectRequest as _shardsync_v1_HeadObjectRequest, HeadObjectRequest__Output as _shardsync_v1_HeadObjectRequest__Output } from '../../shardsync/v1/HeadObjectRequest';
import type { ListBucketsRequest as _shardsync_v1_ListBucketsRequest, ListBucketsRequest__Output as _shardsync_v1_ListBucketsRequest__Output } from '../../shardsync/v1/ListBucketsRequest';
import type { ListBucketsResponse as _shardsync_v1_ListBucketsResponse, ListBucketsResponse__Output as _shardsync_v1_ListBucketsResponse__Output } from '../../shardsync/v1/ListBucketsResponse';
import type { ListObjectsRequest as _shardsync_v1_ListObjectsRequest, ListObjectsRequest__Output as _shardsync_v1_ListObjectsRequest__Output } from '../../shardsync/v1/ListObjectsRequest';
import type { ListObjectsResponse as _shardsync_v1_ListObjectsResponse, ListObjectsResponse__Output as _shardsync_v1_ListObjectsResponse__Output } from '../../shardsync/v1/ListObjectsResponse';
import type { ObjectInfo as _shardsync_v1_ObjectInfo, ObjectInfo__Output as _shardsync_v1_ObjectInfo__Output } from '../../shardsync/v1/ObjectInfo';
import type { PutObjectRequest as _shardsync_v1_PutObjectRequest, PutObjectRequest__Output as _shardsync_v1_PutObjectRequest__Output } from '../../shardsync/v1/PutObjectRequest';

export interface ObjectServiceClient extends grpc.Client {
  CreateBucket(argument: _shardsync_v1_CreateBucketRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_shardsync_v1_Bucket__Output>): grpc.ClientUnaryCall;
  CreateBucket(argument: _shardsync_v1_CreateBucketRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_shardsync_v1_Bucket__Output>): grpc.ClientUnaryCall;
  CreateBucket(argument: _shardsync_v1_CreateBucketRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_shardsync_v1_Bucket__Output>): grpc.ClientUnaryCall;
  CreateBucket(argument: _shardsync_v1_CreateBucketRequest, callback: grpc.requestCallback<_shardsync_v1_Bucket__Output>): grpc.ClientUnaryCall;
  createBucket(argument: _shardsync_v1_CreateBucketRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_shardsync_v1_Bucket__Output>): grpc.ClientUnaryCall;
  createBucket(argument: _shardsync_v1_CreateBucketRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_shardsync_v1_Bucket__Output>): grpc.ClientUnaryCall;
  createBucket(argument: _shardsync_v1_CreateBucketRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_shardsync_v1_Bucket__Output>): grpc.ClientUnaryCall;
  createBucket(argument: _shardsync_v1_CreateBucketRequest, callback: grpc.requestCallback<_shardsync_v1_Bucket__Output>): grpc.ClientUnaryCall;
  
  DeleteBucket(argument: _shardsync_v1_DeleteBucketRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_shardsync_v1_DeleteBucketResponse__Output>): grpc.ClientUnaryCall;
  DeleteBucket(argument: _shardsync_v1_DeleteBucketRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_shardsync_v1_DeleteBucketResponse__Output>): grpc.ClientUnaryCall;
  DeleteBucket(argument: _shardsync_v1_DeleteBucketRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_shardsync_v1_DeleteBucketResponse__Output>): grpc.ClientUnaryCall;
  DeleteBucket(argument: _shardsync_v1_DeleteBucketRequest, callback: grpc.requestCallback<_shardsync_v1_DeleteBucketResponse__Output>): grpc.ClientUnaryCall;
  deleteBucket(argument: _shardsync_v1_DeleteBucketRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_shardsync_v1_DeleteBucketResponse__Output>): grpc.ClientUnaryCall;
  deleteBucket(argument: _shardsync_v1_DeleteBucketRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_shardsync_v1_DeleteBucketResponse__Output>): grpc.ClientUnaryCall;
  deleteBucket(argument: _shardsync_v1_DeleteBucketRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_shardsync_v1_DeleteBucketResponse__Output>): grpc.ClientUnaryCall;
  deleteBucket(argument: _shardsync_v1_DeleteBucketRequest, callback: grpc.requestCallback<_shardsync_v1_DeleteBucketResponse__Output>): grpc.ClientUnaryCall;
  
  DeleteObject(argument: _shardsync_v1_DeleteObjectRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_shardsync_v1_DeleteObjectResponse__Output>): grpc.ClientUnaryCall;
  DeleteObject(argument: _shardsync_v1_DeleteObjectRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_shardsync_v1_DeleteObjectResponse__Output>): grpc.ClientUnaryCall;
  DeleteObject(argument: _shardsync_v1_DeleteObjectRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_shardsync_v1_DeleteObjectResponse__Output>): grpc.ClientUnaryCall;
  DeleteObject(argument: _shardsync_v1_DeleteObjectRequest, callback: grpc.requestCallback<_shardsync_v1_DeleteObjectResponse__Output>): grpc.ClientUnaryCall;
  deleteObject(argument: _shardsync_v1_DeleteObjectRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_shardsync_v1_DeleteObjectResponse__Output>): grpc.ClientUnaryCall;
  deleteObject(argument: _shardsync_v1_DeleteObjectRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_shardsync_v1_DeleteObjectResponse__Output>): grpc.ClientUnaryCall;
  deleteObject(argument: _shardsync_v1_DeleteObjectRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_shardsync_v1_DeleteObjectResponse__Output>): grpc.ClientUnaryCall;
  deleteObject(argument: _shardsync_v1_DeleteObjectRequest, callback: grpc.requestCallback<_shardsync_v1_DeleteObjectResponse__Output>): grpc.ClientUnaryCall;
  
  GetObject(argument: _shardsync_v1_GetObjectRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_shardsync_v1_GetObjectResponse__Output>;
  GetObject(argument: _shardsync_v1_GetObjectRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_shardsync_v1_GetObjectResponse__Output>;
  getObject(argument: _shardsync_v1_GetObjectRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_shardsync_v1_GetObjectResponse__Output>;
  getObject(argument: _shardsync_v1_GetObjectRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_shardsync_v1_GetObjectResponse__Output>;
  
  HeadObject(argument: _shardsync_v1_HeadObjectRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_shardsync_v1_ObjectInfo__Output>): grpc.ClientUnaryCall;
  HeadObject(argument: _shardsync_v1_HeadObjectRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_shardsync_v1_ObjectInfo__Output>): grpc.ClientUnaryCall;
  HeadObject(argument: _shardsync_v1_HeadObjectRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_shardsync_v1_ObjectInfo__Output>): grpc.ClientUnaryCall;
  HeadObject(argument: _shardsync_v1_HeadObjectRequest, callback: grpc.requestCallback<_shardsync_v1_ObjectInfo__Output>): grpc.ClientUnaryCall;
  headObject(argument: _shardsync_v1_HeadObjectRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_shardsync_v1_ObjectInfo__Output>): grpc.ClientUnaryCall;
  headObject(argument: _shardsync_v1_HeadObjectRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_shardsync_v1_ObjectInfo__Output>): grpc.ClientUnaryCall;
  headObject(argument: _shardsync_v1_HeadObjectRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_shardsync_v1_ObjectInfo__Output>): grpc.ClientUnaryCall;
  headObject(argument: _shardsync_v1_HeadObjectRequest, callback: grpc.requestCallback<_shardsync_v1_ObjectInfo__Output>): grpc.ClientUnaryCall;
  
  ListBuckets(argument: _shardsync_v1_ListBucketsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_shardsync_v1_ListBucketsResponse__Output>): grpc.ClientUnaryCall;
  ListBuckets(argument: _shardsync_v1_ListBucketsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_shardsync_v1_ListBucketsResponse__Output>): grpc.ClientUnaryCall;
  ListBuckets(argument: _shardsync_v1_ListBucketsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_shardsync_v1_ListBucketsResponse__Output>): grpc.ClientUnaryCall;
  ListBuckets(argument: _shardsync_v1_ListBucketsRequest, callback: grpc.requestCallback<_shardsync_v1_ListBucketsResponse__Output>): grpc.ClientUnaryCall;
  listBuckets(argument: _shardsync_v1_ListBucketsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_shardsync_v1_ListBucketsResponse__Output>): grpc.ClientUnaryCall;
  listBuckets(argument: _shardsync_v1_ListBucketsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_shardsync_v1_ListBucketsResponse__Output>): grpc.ClientUnaryCall;
  listBuckets(argument: _shardsync_v1_ListBucketsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_shardsync_v1_ListBucketsResponse__Output>): grpc.ClientUnaryCall;
  listBuckets(argument: _shardsync_v1_ListBucketsRequest, callback: grpc.requestCallback<_shardsync_v1_ListBucketsResponse__Output>): grpc.ClientUnaryCall;
  
  ListObjects(argument: _shardsync_v1_ListObjectsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_shardsync_v1_ListObjectsResponse__Output>): grpc.ClientUnaryCall;
  ListObjects(argument: _shardsync_v1_ListObjectsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_shardsync_v1_ListObjectsResponse__Output>): grpc.ClientUnaryCall;
  ListObjects(argument: _shardsync_v1_ListObjectsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_shardsync_v1_ListObjectsResponse__Output>): grpc.ClientUnaryCall;
  ListObjects(argument: _shardsync_v1_ListObjectsRequest, callback: grpc.requestCallback<_shardsync_v1_ListObjectsResponse__Output>): grpc.ClientUnaryCall;
  listObjects(argument: _shardsync_v1_ListObjectsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_shardsync_v1_ListObjectsResponse__Output>): grpc.ClientUnaryCall;
  listObjects(argument: _shardsync_v1_ListObjectsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_shardsync_v1_ListObjectsResponse__Output>): grpc.ClientUnaryCall;
  listObjects(argument: _shardsync_v1_ListObjectsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_shardsync_v1_ListObjectsResponse__Output>): grpc.ClientUnaryCall;
  listObjects(argument: _shardsync_v1_ListObjectsRequest, callback: grpc.requestCallback<_shardsync_v1_ListObjectsResponse__Output>): grpc.ClientUnaryCall;
  
  PutObject(metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_shardsync_v1_ObjectInfo__Output>): grpc.ClientWritableStream<_shardsync_v1_PutObjectRequest>;
  PutObject(metadata: grpc.Metadata, callback: grpc.requestCallback<_shardsync_v1_ObjectInfo__Output>): grpc.ClientWritableStream<_shardsync_v1_PutObjectRequest>;
  PutObject(options: grpc.CallOptions, callback: grpc.requestCallback<_shardsync_v1_ObjectInfo__Output>): grpc.ClientWritableStream<_shardsync_v1_PutObjectRequest>;
  PutObject(callback: grpc.requestCallback<_shardsync_v1_ObjectInfo__Output>): grpc.ClientWritableStream<_shardsync_v1_PutObjectRequest>;
  putObject(metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_shardsync_v1_ObjectInfo__Output>): grpc.ClientWritableStream<_shardsync_v1_PutObjectRequest>;
  putObject(metadata: grpc.Metadata, callback: grpc.requestCallback<_shardsync_v1_ObjectInfo__Output>): grpc.ClientWritableStream<_shardsync_v1_PutObjectRequest>;
  putObject(options: grpc.CallOptions, callback: grpc.requestCallback<_shardsync_v1_ObjectInfo__Output>): grpc.ClientWritableStream<_shardsync_v1_PutObjectRequest>;
  putObject(callback: grpc.requestCallback<_shardsync_v1_ObjectInfo__Output>): grpc.ClientWritableStream<_shardsync_v1_PutObjectRequest>;
  
}

export interface ObjectServiceHandlers extends grpc.UntypedServiceImplementation {
  CreateBucket: grpc.handleUnaryCall<_shardsync_v1_CreateBucketRequest__Output, _shardsync_v1_Bucket>;
  
  DeleteBucket: grpc.handleUnaryCall<_shardsync_v1_DeleteBucketRequest__Output, _shardsync_v1_DeleteBucketResponse>;
  
  DeleteObject: grpc.handleUnaryCall<_shardsync_v1_DeleteObjectRequest__Output, _shardsync_v1_DeleteObjectResponse>;
  
  GetObject: grpc.handleServerStreamingCall<_shardsync_v1_GetObjectRequest__Output, _shardsync_v1_GetObjectResponse>;
  
  HeadObject: grpc.handleUnaryCall<_shardsync_v1_HeadObjectRequest__Output, _shardsync_v1_ObjectInfo>;
  
  ListBuckets: grpc.handleUnaryCall<_shardsync_v1_ListBucketsRequest__Output, _shardsync_v1_ListBucketsResponse>;
  
  ListObjects: grpc.handleUnaryCall<_shardsync_v1_ListObjectsRequest__Output, _shardsync_v1_ListObjectsResponse>;
  
  PutObject: grpc.handleClientStreamingCall<_shardsync_v1_PutObjectRequest__Output, _shardsync_v1_ObjectInfo>;
  
}

export interface ObjectServiceDefinition extends grpc.ServiceDefinition {
  CreateBucket: MethodDefinition<_shardsync_v1_CreateBucketRequest, _shardsync_v1_Bucket, _shardsync_v1_CreateBucketRequest__Output, _shardsync_v1_Bucket__Output>
  DeleteBucket: MethodDefinition<_shardsync_v1_DeleteBucketRequest, _shardsync_v1_DeleteBucketResponse, _shardsync_v1_DeleteBucketRequest__Output, _shardsync_v1_DeleteBucketResponse__Output>
  DeleteObject: MethodDefinition<_shardsync_v1_DeleteObjectRequest, _shardsync_v1_DeleteObjectResponse, _shardsync_v1_DeleteObjectRequest__Output, _shardsync_v1_DeleteObjectResponse__Output>
  GetObject: MethodDefinition<_shardsync_v1_GetObjectRequest, _shardsync_v1_GetObjectResponse, _shardsync_v1_GetObjectRequest__Output, _shardsync_v1_GetObjectResponse__Output>
  HeadObject: MethodDefinition<_shardsync_v1_HeadObjectRequest, _shardsync_v1_ObjectInfo, _shardsync_v1_HeadObjectRequest__Output, _shardsync_v1_ObjectInfo__Output>
  ListBuckets: MethodDefinition<_shardsync_v1_ListBucketsRequest, _shardsync_v1_ListBucketsResponse, _shardsync_v1_ListBucketsRequest__Output, _shardsync_v1_ListBucketsResponse__Output>
  ListObjects: MethodDefinition<_shardsync_v1_ListObjectsRequest, _shardsync_v1_ListObjectsResponse, _shardsync_v1_ListObjectsRequest__Output, _shardsync_v1_ListObjectsResponse__Output>
  PutObject: MethodDefinition<_shardsync_v1_PutObjectRequest, _shardsync_v1_ObjectInfo, _shardsync_v1_PutObjectRequest__Output, _shardsync_v1_ObjectInfo__Output>
}
