/**
 * test/sync/crash-retry.test.ts on the listed full-sync path (--full-sync-path
 * list: ListIndex pages + FetchObjects); the suite itself runs on the
 * default, streaming path. See FULL_SYNC_PATH in test/sync/helpers.ts.
 */
process.env.SHARDSYNC_TEST_FULL_SYNC_PATH = 'list'
// After the variable is set: the suite's helpers read it when loaded.
require('../crash-retry.test')
