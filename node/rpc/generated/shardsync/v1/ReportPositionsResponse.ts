// Original file: proto/shardsync/v1/sync.proto


export interface ReportPositionsResponse {
}

export interface ReportPositionsResponse__Output {
}
