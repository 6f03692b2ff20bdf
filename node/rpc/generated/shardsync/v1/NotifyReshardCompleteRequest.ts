// Original file: proto/shardsync/v1/sync.proto


export interface NotifyReshardCompleteRequest {
  'sourceReshardSyncInfo'?: (string);
}

export interface NotifyReshardCompleteRequest__Output {
  'sourceReshardSyncInfo': (string);
}
