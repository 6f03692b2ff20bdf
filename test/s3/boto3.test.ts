/**
 * boto3 against a real pair of sites (issue 29), with each boto3 found
 * (Debian's python3-boto3, and a newer one on PATH if there is one): put
 * with Content-Type and metadata, get, ranged get, head, listing with a
 * delimiter and pagination over 1,100 keys, multipart, delete_objects,
 * presigned GET, copy. Every case is checked on the other site after
 * wait-synced, through S3 and through gRPC, and objects cross in both
 * directions.
 *
 * Shown to fail on the broken behaviour: with the metadata left out of
 * FetchObjects/PullChanges (source-api.ts infoOf/attachData), the check on
 * B fails on ContentType and Metadata; with listPage not jumping past a
 * common prefix, the delimiter listing repeats 'many/' and fails.
 */
import t from 'tap'
import { callUnary } from '../../node/rpc/clients'
import type { ObjectInfo__Output } from '../../node/rpc/generated/shardsync/v1/ObjectInfo'
import { boto3Pythons, clientEnv, DEV_S3_KEY, needClient, run, s3Endpoint, startS3Pair, tempDir, waitSynced } from './helpers'

const SCRIPT = String.raw`
import sys, json, hashlib, urllib.request
import boto3, botocore
from botocore.config import Config
mode, endpoint, bucket = sys.argv[1], sys.argv[2], sys.argv[3]
s3 = boto3.client('s3', endpoint_url=endpoint, aws_access_key_id='${DEV_S3_KEY.accessKey}', aws_secret_access_key='${DEV_S3_KEY.secret}',
                  region_name='us-east-1', config=Config(signature_version='s3v4', s3={'addressing_style': 'path'}, retries={'max_attempts': 1}))
out = {}
def body(n, seed): return hashlib.sha256(seed.encode()).digest() * (n // 32) + b'x' * (n % 32)
BIG = 5 * 1024 * 1024
if mode == 'write':
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key='docs/hello.txt', Body=b'hello, world', ContentType='text/plain; charset=utf-8', Metadata={'colour': 'blue', 'owner': 'ann'})
    for i in range(1100):
        s3.put_object(Bucket=bucket, Key='many/%05d' % i, Body=b'%d' % i)
    s3.put_object(Bucket=bucket, Key='many-not/x', Body=b'x')
    s3.put_object(Bucket=bucket, Key='gone/1', Body=b'1')
    s3.put_object(Bucket=bucket, Key='gone/2', Body=b'2')
    r = s3.delete_objects(Bucket=bucket, Delete={'Objects': [{'Key': 'gone/1'}, {'Key': 'gone/2'}, {'Key': 'never-was'}]})
    assert sorted(d['Key'] for d in r['Deleted']) == ['gone/1', 'gone/2', 'never-was'], r
    mp = s3.create_multipart_upload(Bucket=bucket, Key='big/multi.bin', ContentType='application/x-test', Metadata={'kind': 'multipart'})
    parts = []
    for n, size in [(1, BIG), (2, BIG), (3, 1000)]:
        p = s3.upload_part(Bucket=bucket, Key='big/multi.bin', UploadId=mp['UploadId'], PartNumber=n, Body=body(size, str(n)))
        parts.append({'PartNumber': n, 'ETag': p['ETag']})
    listed = s3.list_parts(Bucket=bucket, Key='big/multi.bin', UploadId=mp['UploadId'])['Parts']
    assert [p['Size'] for p in listed] == [BIG, BIG, 1000], listed
    ups = s3.list_multipart_uploads(Bucket=bucket)['Uploads']
    assert [u['UploadId'] for u in ups] == [mp['UploadId']], ups
    done = s3.complete_multipart_upload(Bucket=bucket, Key='big/multi.bin', UploadId=mp['UploadId'], MultipartUpload={'Parts': parts})
    assert done['ETag'].endswith('-3"'), done
    assert s3.list_multipart_uploads(Bucket=bucket).get('Uploads', []) == []
    s3.copy_object(Bucket=bucket, Key='docs/copy.txt', CopySource={'Bucket': bucket, 'Key': 'docs/hello.txt'})
    out['multipartEtag'] = done['ETag']
# Both modes: what a site must hold after the writes (on B after sync).
h = s3.head_object(Bucket=bucket, Key='docs/hello.txt')
assert h['ContentType'] == 'text/plain; charset=utf-8', h['ContentType']
assert h['Metadata'] == {'colour': 'blue', 'owner': 'ann'}, h['Metadata']
assert h['ContentLength'] == 12 and h['ETag'] == '"%s"' % hashlib.md5(b'hello, world').hexdigest()
assert s3.get_object(Bucket=bucket, Key='docs/hello.txt')['Body'].read() == b'hello, world'
g = s3.get_object(Bucket=bucket, Key='docs/hello.txt', Range='bytes=7-')
assert g['Body'].read() == b'world' and g['ContentRange'] == 'bytes 7-11/12', g['ContentRange']
assert s3.get_object(Bucket=bucket, Key='docs/copy.txt')['Metadata'] == {'colour': 'blue', 'owner': 'ann'}
top = s3.list_objects_v2(Bucket=bucket, Delimiter='/')
assert [p['Prefix'] for p in top['CommonPrefixes']] == ['big/', 'docs/', 'many-not/', 'many/'], top.get('CommonPrefixes')
assert top.get('KeyCount') == 4 and 'Contents' not in top
keys, pages = [], 0
for page in s3.get_paginator('list_objects_v2').paginate(Bucket=bucket, Prefix='many/', PaginationConfig={'PageSize': 250}):
    pages += 1
    keys += [o['Key'] for o in page.get('Contents', [])]
assert keys == ['many/%05d' % i for i in range(1100)], (len(keys), keys[:3])
assert pages == 5, pages
v1 = [o['Key'] for p in s3.get_paginator('list_objects').paginate(Bucket=bucket, Prefix='many/') for o in p.get('Contents', [])]
assert v1 == keys, len(v1)
after = s3.list_objects_v2(Bucket=bucket, Prefix='many/', StartAfter='many/01095')
assert [o['Key'] for o in after['Contents']] == ['many/01096', 'many/01097', 'many/01098', 'many/01099']
assert s3.list_objects_v2(Bucket=bucket, Prefix='gone/').get('KeyCount') == 0
mh = s3.head_object(Bucket=bucket, Key='big/multi.bin')
assert mh['ContentLength'] == 2 * BIG + 1000 and mh['ETag'].endswith('-3"') and mh['Metadata'] == {'kind': 'multipart'} and mh['ContentType'] == 'application/x-test', mh
data = s3.get_object(Bucket=bucket, Key='big/multi.bin')['Body'].read()
assert data == body(BIG, '1') + body(BIG, '2') + body(1000, '3')
mid = s3.get_object(Bucket=bucket, Key='big/multi.bin', Range='bytes=%d-%d' % (BIG - 5, BIG + 4))['Body'].read()
assert mid == data[BIG - 5:BIG + 5]
url = s3.generate_presigned_url('get_object', Params={'Bucket': bucket, 'Key': 'docs/hello.txt'}, ExpiresIn=300)
assert urllib.request.urlopen(url).read() == b'hello, world'
try:
    s3.get_object(Bucket=bucket, Key='gone/1'); assert False
except botocore.exceptions.ClientError as e:
    assert e.response['Error']['Code'] == 'NoSuchKey', e.response
out['etag'] = mh['ETag']
out['ok'] = True
print(json.dumps(out))
`

const BACK = String.raw`
import sys, boto3
from botocore.config import Config
mode, endpoint, bucket = sys.argv[1], sys.argv[2], sys.argv[3]
s3 = boto3.client('s3', endpoint_url=endpoint, aws_access_key_id='${DEV_S3_KEY.accessKey}', aws_secret_access_key='${DEV_S3_KEY.secret}', region_name='us-east-1', config=Config(signature_version='s3v4', s3={'addressing_style': 'path'}))
if mode == 'write':
    s3.put_object(Bucket=bucket, Key='from-b.txt', Body=b'written on B', Metadata={'site': 'b'})
    s3.delete_object(Bucket=bucket, Key='docs/copy.txt')
else:
    o = s3.get_object(Bucket=bucket, Key='from-b.txt')
    assert o['Body'].read() == b'written on B' and o['Metadata'] == {'site': 'b'}
    assert s3.list_objects_v2(Bucket=bucket, Prefix='docs/').get('KeyCount') == 1
print('ok')
`

t.test('boto3 on a pair of sites', async t => {
  const pythons = boto3Pythons()
  if (!needClient(t, 'boto3', pythons.length > 0, 'apt-get install python3-boto3')) return
  const [a, b] = await startS3Pair(t)
  const env = clientEnv(tempDir(t, 'boto3'))
  for (const { python, version } of pythons) {
    const bucket = `boto3-${version.replace(/[^0-9]/g, '-')}`
    t.comment(`boto3 ${version} (${python}), bucket ${bucket}`)
    const w = await run(python, ['-c', SCRIPT, 'write', s3Endpoint(a), bucket], { env })
    t.equal(w.code, 0, `boto3 ${version}: writes and reads on A`, { stderr: w.stderr.slice(-3000) })
    await waitSynced(t, b)
    const c = await run(python, ['-c', SCRIPT, 'check', s3Endpoint(b), bucket], { env })
    t.equal(c.code, 0, `boto3 ${version}: B holds what was written on A, metadata and multipart ETag included`, { stderr: c.stderr.slice(-3000) })
    if (w.code === 0 && c.code === 0) t.equal(JSON.parse(c.stdout).etag, JSON.parse(w.stdout).multipartEtag, 'the multipart ETag is the same on both sites')
    // The same objects through gRPC on B.
    const info = await callUnary<object, ObjectInfo__Output>(b.clients.object, 'HeadObject', { bucket, key: 'docs/hello.txt' })
    t.equal(Number(info.size), 12, 'gRPC HeadObject on B sees the S3 object')
    t.match(JSON.parse(info.metadata ?? '{}'), { type: 'text/plain; charset=utf-8', user: { colour: 'blue' } }, 'and its metadata')
    // And back: written on B, read on A.
    const wb = await run(python, ['-c', BACK, 'write', s3Endpoint(b), bucket], { env })
    t.equal(wb.code, 0, 'put and delete on B', { stderr: wb.stderr.slice(-2000) })
    await waitSynced(t, a)
    const ca = await run(python, ['-c', BACK, 'check', s3Endpoint(a), bucket], { env })
    t.equal(ca.code, 0, 'A holds what was written on B, and lost what B deleted', { stderr: ca.stderr.slice(-2000) })
  }
})
