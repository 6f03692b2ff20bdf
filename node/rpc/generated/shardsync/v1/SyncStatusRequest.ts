// Original file: proto/shardsync/v1/admin.proto


export interface SyncStatusRequest {
  'peer'?: (string);
  'summaryOnly'?: (boolean);
}

export interface SyncStatusRequest__Output {
  'peer': (string);
  'summaryOnly': (boolean);
}
