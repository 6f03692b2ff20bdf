// Original file: proto/shardsync/v1/common.proto

import type { Long } from '@grpc/proto-loader';

export interface ObjectInfo {
  'key'?: (string);
  'size'?: (number | string | Long);
  'etag'?: (string);
  'mtime'?: (number | string | Long);
  'originSite'?: (string);
  'crc32'?: (number);
  'metadata'?: (string);
  '_crc32'?: "crc32";
  '_metadata'?: "metadata";
}

export interface ObjectInfo__Output {
  'key': (string);
  'size': (number);
  'etag': (string);
  'mtime': (number);
  'originSite': (string);
  'crc32'?: (number);
  'metadata'?: (string);
  '_crc32'?: "crc32";
  '_metadata'?: "metadata";
}
