// Original file: proto/shardsync/v1/common.proto

export const SplitState = {
  SPLIT_STATE_UNSPECIFIED: 'SPLIT_STATE_UNSPECIFIED',
  SPLIT_STATE_UNSPLIT: 'SPLIT_STATE_UNSPLIT',
  SPLIT_STATE_SPLITTING: 'SPLIT_STATE_SPLITTING',
  SPLIT_STATE_SPLIT_DONE: 'SPLIT_STATE_SPLIT_DONE',
} as const;

export type SplitState =
  | 'SPLIT_STATE_UNSPECIFIED'
  | 0
  | 'SPLIT_STATE_UNSPLIT'
  | 1
  | 'SPLIT_STATE_SPLITTING'
  | 2
  | 'SPLIT_STATE_SPLIT_DONE'
  | 3

export type SplitState__Output = typeof SplitState[keyof typeof SplitState]
