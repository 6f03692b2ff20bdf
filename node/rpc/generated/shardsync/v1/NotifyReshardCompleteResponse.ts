// Original file: proto/shardsync/v1/sync.proto


export interface NotifyReshardCompleteResponse {
  'recorded'?: (boolean);
}

export interface NotifyReshardCompleteResponse__Output {
  'recorded': (boolean);
}
